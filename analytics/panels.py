"""The 360 page's "Value and scores" panel: badges, a 12-month value chart, offers to suggest."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.selectors import customer_score, customer_score_history, next_best_offers

CHART_WIDTH, CHART_HEIGHT = 240, 48


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    month: object
    value: object


def value_chart(history) -> list[ChartPoint]:
    """The monthly 12-month value as points of a small SVG polyline (the oldest month on the left)."""
    values = [float(row.clv_12m) if row.clv_12m is not None else 0.0 for row in history]
    if len(values) < 2:
        return []
    top = max(values) or 1.0
    step = CHART_WIDTH / (len(values) - 1)
    return [
        ChartPoint(x=round(index * step, 1), y=round(CHART_HEIGHT - 4 - (value / top) * (CHART_HEIGHT - 8), 1),
                   month=row.month, value=row.clv_12m)
        for index, (value, row) in enumerate(zip(values, history, strict=True))
    ]  # fmt: skip


def scores_panel_context(*, customer, user) -> dict:
    """Context of the panel (three reads: the score, the monthly history, the offers)."""
    history = customer_score_history(customer.pk)
    chart = value_chart(history)
    return {
        "score": customer_score(customer.pk),
        "history": history,
        "chart": chart,
        "chart_points": " ".join(f"{point.x},{point.y}" for point in chart),
        "chart_size": (CHART_WIDTH, CHART_HEIGHT),
        "offers": next_best_offers(customer.pk, n=3),
    }
