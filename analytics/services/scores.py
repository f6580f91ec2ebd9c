# ruff: noqa: S608 -- table and column names below come from model metadata; values are parameters.
"""The nightly customer scores: read the order history in bulk, fit the models, write every score at once.

Steps (each a named helper): one SQL aggregate of purchase days per customer, COPY'd out to pandas;
the BG/NBD and Gamma-Gamma fits and the RFM quintiles computed on whole arrays; the results COPY'd
into a temporary table; one ``INSERT ... SELECT ... ON CONFLICT`` writes the latest score of every
live customer (responsiveness per channel computed in the same statement), and a second one the
month's snapshot. No Python loop runs over customers.
"""

from __future__ import annotations

import datetime
import io
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analytics.estimators import bgnbd, gamma_gamma, rfm
from analytics.models import CustomerScore, CustomerScoreMonth, ScoreRun
from campaigns.models import Campaign, Message
from channels.models import Interaction
from customers.models import Customer, Order

logger = logging.getLogger(__name__)

CUSTOMER = Customer._meta.db_table
ORDER = Order._meta.db_table
MESSAGE = Message._meta.db_table
CAMPAIGN = Campaign._meta.db_table
INTERACTION = Interaction._meta.db_table
SCORE = CustomerScore._meta.db_table
SCORE_MONTH = CustomerScoreMonth._meta.db_table

# Cancelled and returned orders were not purchases that stayed.
NOT_PURCHASES = [Order.Status.CANCELLED, Order.Status.RETURNED]
MONTH_DAYS = 365.25 / 12
FIT_SAMPLE = 200_000  # customers the models are fitted on (a seeded sample past that; scored: all)
CHURN_BANDS = (0.3, 0.7)  # churn risk below 0.3 is low, from 0.7 high
RESPONSE_WINDOW_DAYS = 7  # an inbound contact on the message's channel this soon after it is a reply
RESPONSIVENESS_DAYS = 365

SCORE_COLUMNS = [
    "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_cell",
    "expected_purchases_90", "expected_purchases_365", "p_alive", "expected_order_value", "clv_12m",
    "value_band", "churn_risk", "churn_band", "preferred_purchase_channel",
]  # fmt: skip


@dataclass
class ScoreResult:
    run: ScoreRun
    customers: int
    buyers: int


def _annual_discount_rate() -> float:
    return float(getattr(settings, "ANALYTICS_ANNUAL_DISCOUNT_RATE", 0.10))


def purchase_summary(as_of: datetime.date) -> pd.DataFrame:
    """Per live customer with a purchase on or before ``as_of``: first and last purchase day (days
    before ``as_of``), repeat purchase days, total and mean repeat spend, most used sales channel.

    A purchase is a day with orders (the models count purchase occasions, as the CDNOW validation does).
    """
    statement = f"""
        COPY (
            WITH days AS (
                SELECT o.customer_id, (o.placed_at AT TIME ZONE %(tz)s)::date AS day,
                       sum(o.total_amount) AS spend,
                       row_number() OVER (PARTITION BY o.customer_id
                                          ORDER BY (o.placed_at AT TIME ZONE %(tz)s)::date) AS nth
                FROM {ORDER} o JOIN {CUSTOMER} c ON c.id = o.customer_id
                WHERE c.merged_into_id IS NULL AND c.anonymised_at IS NULL
                  AND o.status <> ALL(%(not_purchases)s) AND (o.placed_at AT TIME ZONE %(tz)s)::date <= %(as_of)s
                GROUP BY o.customer_id, 2
            ), channels AS (
                SELECT o.customer_id, mode() WITHIN GROUP (ORDER BY o.sales_channel) AS channel, count(*) AS orders
                FROM {ORDER} o JOIN {CUSTOMER} c ON c.id = o.customer_id
                WHERE c.merged_into_id IS NULL AND c.anonymised_at IS NULL
                  AND o.status <> ALL(%(not_purchases)s) AND (o.placed_at AT TIME ZONE %(tz)s)::date <= %(as_of)s
                GROUP BY o.customer_id
            )
            SELECT d.customer_id,
                   %(as_of)s::date - min(d.day) AS age_days,
                   max(d.day) - min(d.day) AS last_after_first_days,
                   %(as_of)s::date - max(d.day) AS recency_days,
                   count(*) - 1 AS repeat_days,
                   ch.orders AS orders,
                   sum(d.spend) AS monetary,
                   COALESCE(avg(d.spend) FILTER (WHERE d.nth > 1), 0) AS mean_repeat_spend,
                   ch.channel AS channel
            FROM days d JOIN channels ch ON ch.customer_id = d.customer_id
            GROUP BY d.customer_id, ch.orders, ch.channel
        ) TO STDOUT WITH (FORMAT csv, HEADER true)
    """
    params = {"tz": settings.TIME_ZONE, "as_of": as_of, "not_purchases": [str(s) for s in NOT_PURCHASES]}
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    return pd.read_csv(buffer, dtype={"channel": str}, keep_default_na=False)


Fits = tuple[bgnbd.BgNbdParams | None, gamma_gamma.GammaGammaParams | None]


def _fit_sample(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= FIT_SAMPLE:
        return frame
    return frame.sample(n=FIT_SAMPLE, random_state=20050101)


def _fit_models(frame: pd.DataFrame) -> Fits:
    """The two fits on the buyers (distinct rows with their counts); None where the data cannot carry one."""
    sample = _fit_sample(frame)
    rows = sample[["repeat_days", "last_after_first_days", "age_days"]].to_numpy(dtype=float)
    bg = gg = None
    try:
        distinct, counts = np.unique(rows, axis=0, return_counts=True)
        bg = bgnbd.fit(distinct[:, 0], distinct[:, 1], distinct[:, 2], weights=counts)
        if not all(np.isfinite([bg.r, bg.alpha, bg.a, bg.b])):
            bg = None
    except ValueError as error:
        logger.info("analytics.scores.bgnbd_not_fitted", extra={"reason": str(error)})
    try:
        gg = gamma_gamma.fit(sample["repeat_days"], sample["mean_repeat_spend"])
        if gg.q <= 1 or not all(np.isfinite([gg.p, gg.q, gg.gamma])):
            gg = None  # the population mean p*gamma/(q-1) is undefined
    except ValueError as error:
        logger.info("analytics.scores.gamma_gamma_not_fitted", extra={"reason": str(error)})
    return bg, gg


def _clv(bg: bgnbd.BgNbdParams, aov: np.ndarray, x, t_x, T) -> np.ndarray:
    """Discounted revenue over the next 12 months: sum over months of E[purchases that month] x AOV / (1+d)^k."""
    monthly = (1 + _annual_discount_rate()) ** (1 / 12) - 1
    total = np.zeros(len(x))
    before = np.zeros(len(x))
    for month in range(1, 13):  # twelve vectorised steps over every customer at once
        cumulative = bgnbd.expected_purchases(bg, month * MONTH_DAYS, x, t_x, T)
        total += (cumulative - before) / (1 + monthly) ** month
        before = cumulative
    return total * aov


def _bands(values: np.ndarray, *, thresholds: tuple[float, float]) -> np.ndarray:
    low, high = thresholds
    return np.where(np.isnan(values), "", np.where(values < low, "low", np.where(values < high, "medium", "high")))


def score_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, *Fits]:
    """Every score of the buyers in ``purchase_summary``'s frame, computed on whole columns."""
    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy()})
    out["recency_days"] = frame["recency_days"].to_numpy()
    out["frequency"] = frame["orders"].to_numpy()
    out["monetary"] = frame["monetary"].to_numpy(dtype=float).round(2)
    out["r_score"] = rfm.quintile_scores(frame["recency_days"], higher_is_better=False)
    out["f_score"] = rfm.quintile_scores(frame["orders"])
    out["m_score"] = rfm.quintile_scores(frame["monetary"])
    out["rfm_cell"] = rfm.cells(out["r_score"], out["f_score"], out["m_score"])
    bg, gg = _fit_models(frame)
    x = frame["repeat_days"].to_numpy(dtype=float)
    t_x = frame["last_after_first_days"].to_numpy(dtype=float)
    T = frame["age_days"].to_numpy(dtype=float)
    m = frame["mean_repeat_spend"].to_numpy(dtype=float)
    nan = np.full(len(frame), np.nan)
    if gg is not None:
        aov = gamma_gamma.expected_average_value(gg, x, m)
    else:  # no model: the customer's own mean order value
        aov = frame["monetary"].to_numpy(dtype=float) / np.maximum(frame["orders"].to_numpy(dtype=float), 1)
    out["expected_order_value"] = aov.round(2)
    if bg is not None:
        with np.errstate(all="ignore"):
            out["expected_purchases_90"] = bgnbd.expected_purchases(bg, 90.0, x, t_x, T)
            out["expected_purchases_365"] = bgnbd.expected_purchases(bg, 365.0, x, t_x, T)
            out["p_alive"] = bgnbd.probability_alive(bg, x, t_x, T)
            out["clv_12m"] = _clv(bg, aov, x, t_x, T).round(2)
    else:
        out["expected_purchases_90"] = out["expected_purchases_365"] = out["p_alive"] = out["clv_12m"] = nan
    out["churn_risk"] = 1.0 - out["p_alive"]
    out["churn_band"] = _bands(out["churn_risk"].to_numpy(dtype=float), thresholds=CHURN_BANDS)
    clv = out["clv_12m"].to_numpy(dtype=float)
    if np.isfinite(clv).any():
        # Value thirds among the buyers: the bottom 40 %, the middle 40 %, the top 20 %.
        rank = pd.Series(clv).rank(pct=True).to_numpy()
        out["value_band"] = _bands(rank, thresholds=(0.4, 0.8))
    else:
        out["value_band"] = ""
    out["preferred_purchase_channel"] = frame["channel"].to_numpy()
    # A forecast the hypergeometric function could not give is unknown (NULL), never inf.
    return out.replace([np.inf, -np.inf], np.nan), bg, gg


def _copy_stage(cursor, scored: pd.DataFrame) -> None:
    # ON COMMIT DROP does not fire when the caller's transaction is an outer one (a test, a bigger job).
    cursor.execute("DROP TABLE IF EXISTS analytics_score_stage")
    cursor.execute(
        """CREATE TEMPORARY TABLE analytics_score_stage (
               customer_id bigint PRIMARY KEY, recency_days integer, frequency integer, monetary numeric(14, 2),
               r_score smallint, f_score smallint, m_score smallint, rfm_cell varchar(20),
               expected_purchases_90 double precision, expected_purchases_365 double precision,
               p_alive double precision, expected_order_value numeric(12, 2), clv_12m numeric(14, 2),
               value_band varchar(6), churn_risk double precision, churn_band varchar(6),
               preferred_purchase_channel varchar(12)
           ) ON COMMIT DROP"""
    )
    buffer = io.StringIO()
    scored[["customer_id", *SCORE_COLUMNS]].to_csv(buffer, index=False, header=False, na_rep="")
    buffer.seek(0)
    with cursor.cursor.copy(f"COPY analytics_score_stage (customer_id, {', '.join(SCORE_COLUMNS)}) "
                            "FROM STDIN WITH (FORMAT csv)") as copy:  # fmt: skip
        while block := buffer.read(1 << 20):
            copy.write(block)


def _write_scores(cursor, *, as_of: datetime.date, computed_at: datetime.datetime) -> int:
    """Upsert the latest score of every live customer; responsiveness per channel in the same statement."""
    responsive_since = computed_at - datetime.timedelta(days=RESPONSIVENESS_DAYS)
    # A customer with no purchase has no stage row: defaults for the columns that cannot be NULL.
    defaults = {"frequency": "0", "monetary": "0", "rfm_cell": "'no_purchase'", "value_band": "''",
                "churn_band": "''", "preferred_purchase_channel": "''"}  # fmt: skip
    selected = ", ".join(f"COALESCE(s.{name}, {defaults[name]})" if name in defaults else f"s.{name}"
                         for name in SCORE_COLUMNS)  # fmt: skip
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in [*SCORE_COLUMNS, "computed_at", "responsiveness"])
    cursor.execute(
        f"""
        WITH sent AS (
            SELECT m.customer_id, m.channel,
                   (m.opened_at IS NOT NULL OR m.clicked_at IS NOT NULL
                    OR EXISTS (SELECT 1 FROM {INTERACTION} i
                               WHERE i.customer_id = m.customer_id AND i.channel = m.channel
                                 AND i.direction = 'inbound' AND i.occurred_at > m.sent_at
                                 AND i.occurred_at <= m.sent_at + make_interval(days => %(reply_days)s))
                    OR EXISTS (SELECT 1 FROM {ORDER} o
                               WHERE o.customer_id = m.customer_id AND o.status <> ALL(%(not_purchases)s)
                                 AND o.placed_at > m.sent_at
                                 AND o.placed_at <= m.sent_at + make_interval(days => k.attribution_days))
                   ) AS responded
            FROM {MESSAGE} m JOIN {CAMPAIGN} k ON k.id = m.campaign_id
            WHERE m.sent_at IS NOT NULL AND m.sent_at >= %(since)s AND m.sent_at <= %(now)s
              AND m.purpose = 'marketing'
        ), per_channel AS (
            SELECT customer_id, channel, count(*) AS sent, count(*) FILTER (WHERE responded) AS responded
            FROM sent GROUP BY customer_id, channel
        ), responsiveness AS (
            SELECT customer_id,
                   jsonb_object_agg(channel, jsonb_build_object(
                       'sent', sent, 'responded', responded, 'share', round(responded::numeric / sent, 3)
                   )) AS channels
            FROM per_channel GROUP BY customer_id
        )
        INSERT INTO {SCORE} (customer_id, computed_at, {", ".join(SCORE_COLUMNS)}, responsiveness)
        SELECT c.id, %(now)s, {selected}, COALESCE(r.channels, '{{}}'::jsonb)
        FROM {CUSTOMER} c
        LEFT JOIN analytics_score_stage s ON s.customer_id = c.id
        LEFT JOIN responsiveness r ON r.customer_id = c.id
        WHERE c.merged_into_id IS NULL AND c.anonymised_at IS NULL
        ON CONFLICT (customer_id) DO UPDATE SET {updates}
        """,
        {"now": computed_at, "since": responsive_since, "reply_days": RESPONSE_WINDOW_DAYS,
         "not_purchases": [str(s) for s in NOT_PURCHASES]},
    )  # fmt: skip
    written = cursor.rowcount
    # A customer merged away or anonymised since the last run keeps no score.
    cursor.execute(
        f"""DELETE FROM {SCORE} s USING {CUSTOMER} c WHERE c.id = s.customer_id
            AND (c.merged_into_id IS NOT NULL OR c.anonymised_at IS NOT NULL)"""
    )
    all_columns = ", ".join(["customer_id", "computed_at", *SCORE_COLUMNS, "responsiveness"])
    cursor.execute(
        f"""INSERT INTO {SCORE_MONTH} ({all_columns}, month)
            SELECT {all_columns}, %(month)s FROM {SCORE}
            ON CONFLICT (customer_id, month) DO UPDATE SET {updates}""",
        {"month": as_of.replace(day=1)},
    )
    return written


def scores_compute(*, as_of: datetime.date | None = None, acting_user=None) -> ScoreResult:
    """Recompute every live customer's scores as of ``as_of`` (today in the site's time zone by default).

    Writes one ``CustomerScore`` per live customer (created or replaced), this month's
    ``CustomerScoreMonth`` rows, and a ``ScoreRun`` with the fitted parameters and timings. The scores
    are written in one transaction: readers see yesterday's scores or today's, never a mix. Safe to run
    again (the upserts replace). ``acting_user`` is None for the nightly job; a person who starts a run
    by hand is named in the run's log line.
    """
    as_of = as_of or timezone.localdate()
    run = ScoreRun.objects.create(as_of=as_of)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        frame = purchase_summary(as_of)
        timings["read"] = round(time.perf_counter() - started, 3)
        mark = time.perf_counter()
        scored, bg, gg = score_frame(frame)
        timings["compute"] = round(time.perf_counter() - mark, 3)
        mark = time.perf_counter()
        computed_at = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            _copy_stage(cursor, scored)
            written = _write_scores(cursor, as_of=as_of, computed_at=computed_at)
        timings["write"] = round(time.perf_counter() - mark, 3)
    except Exception as error:
        ScoreRun.objects.filter(pk=run.pk).update(status=ScoreRun.Status.FAILED, error=str(error)[:2000],
                                                  finished_at=timezone.now())  # fmt: skip
        raise
    timings["total"] = round(time.perf_counter() - started, 3)
    ScoreRun.objects.filter(pk=run.pk).update(
        status=ScoreRun.Status.DONE, finished_at=timezone.now(), customers=written, buyers=len(frame),
        bgnbd=bg.as_dict() if bg else {}, gamma_gamma=gg.as_dict() if gg else {}, timings=timings,
    )  # fmt: skip
    run.refresh_from_db()
    extra = {"run": run.pk, "customers": written, "buyers": len(frame), "acting_user": getattr(acting_user, "pk", None)}
    logger.info("analytics.scores.computed", extra={**extra, **timings})
    return ScoreResult(run=run, customers=written, buyers=len(frame))
