# ruff: noqa: S608 -- the table and column names below are written in code; values are parameters.
"""Score conditions for the segment builder, registered in ``campaigns.segments.registry``.

Each is a scalar subquery on the customer's latest score (one index lookup per customer still in
the running); a customer without a score row (never scored yet) matches no comparison.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from analytics.models import Band, CustomerScore, RfmCell
from campaigns.models import CampaignChannel
from campaigns.segments.registry import CHOICE, NUMBER, CompileContext, Condition, Node, Param, Sql

SCORE = CustomerScore._meta.db_table
G_SCORES = _("Scores")


def _score_column(column: str):
    def expression(ctx: CompileContext, node: Node) -> Sql:
        return f"(SELECT s.{column} FROM {SCORE} s WHERE s.customer_id = c.id)", []

    return expression


def _percent_column(column: str):
    """A 0..1 column compared as a percentage (the builder speaks in %)."""

    def expression(ctx: CompileContext, node: Node) -> Sql:
        return f"(SELECT round((s.{column} * 100)::numeric, 2) FROM {SCORE} s WHERE s.customer_id = c.id)", []

    return expression


def _responsiveness(ctx: CompileContext, node: Node) -> Sql:
    return (f"(SELECT round(((s.responsiveness -> %s ->> 'share')::numeric) * 100, 2) FROM {SCORE} s "
            "WHERE s.customer_id = c.id)"), [node.params["channel"]]  # fmt: skip


RESPONSE_CHANNEL = Param("channel", _("channel"), choices=CampaignChannel.choices, required=True)

SCORE_CONDITIONS = [
    Condition("score.rfm_cell", _("RFM cell"), G_SCORES, CHOICE, expression=_score_column("rfm_cell"),
              choices=RfmCell.choices, case_sensitive=True, order=70),
    Condition("score.r", _("recency score (1-5)"), G_SCORES, NUMBER, expression=_score_column("r_score"), order=71),
    Condition("score.f", _("frequency score (1-5)"), G_SCORES, NUMBER, expression=_score_column("f_score"), order=71),
    Condition("score.m", _("monetary score (1-5)"), G_SCORES, NUMBER, expression=_score_column("m_score"), order=71),
    Condition("score.clv_12m", _("12-month value"), G_SCORES, NUMBER, expression=_score_column("clv_12m"),
              order=72),
    Condition("score.value_band", _("value band"), G_SCORES, CHOICE, expression=_score_column("value_band"),
              choices=Band.choices, case_sensitive=True, order=72),
    Condition("score.p_alive", _("probability still active (%)"), G_SCORES, NUMBER,
              expression=_percent_column("p_alive"), order=73),
    Condition("score.churn_risk", _("churn risk (%)"), G_SCORES, NUMBER, expression=_percent_column("churn_risk"),
              order=73),
    Condition("score.churn_band", _("churn risk band"), G_SCORES, CHOICE, expression=_score_column("churn_band"),
              choices=Band.choices, case_sensitive=True, order=73),
    Condition("score.expected_purchases_365", _("expected purchases in the next 365 days"), G_SCORES, NUMBER,
              expression=_score_column("expected_purchases_365"), order=74),
    Condition("score.responsiveness", _("responsiveness (%)"), G_SCORES, NUMBER, expression=_responsiveness,
              params=(RESPONSE_CHANNEL,), order=75,
              help=_("Share of the marketing messages of the last year on this channel followed by an open, a "
                     "click, a reply or a purchase.")),
]  # fmt: skip
