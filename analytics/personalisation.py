# ruff: noqa: S608 -- table and column names below come from model metadata; values are parameters.
"""What the company's web site may show a visitor: one read of the customer's stage, consent, score
bands and segments, then the next offers (logged as shown by the API, which is the write path).

Nothing personal leaves without the customer's web personalisation consent (channel
``web_personalisation``, purpose ``profiling``, the one the import and the portal record): an unknown
visitor and a customer without that consent get the same neutral answer, so the answer does not
even tell whether the visitor is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from analytics.models import CustomerScore
from analytics.selectors import Offer, next_best_offers
from campaigns.models import Segment, SegmentMember
from channels.models import VisitorLink
from customers.choices import Channel, ConsentStatus, Purpose
from customers.models import Consent, Customer

CUSTOMER = Customer._meta.db_table
CONSENT = Consent._meta.db_table
SCORE = CustomerScore._meta.db_table
SEGMENT = Segment._meta.db_table
MEMBER = SegmentMember._meta.db_table
LINK = VisitorLink._meta.db_table
MAX_SEGMENTS = 50


@dataclass
class Personalisation:
    personalised: bool
    customer_id: int | None = None
    stage: str | None = None
    segments: list[dict] = field(default_factory=list)
    scores: dict | None = None
    offers: list[Offer] = field(default_factory=list)


NEUTRAL = Personalisation(personalised=False)

_PROFILE = f"""
    SELECT c.id, c.stage,
           (SELECT k.status FROM {CONSENT} k WHERE k.customer_id = c.id AND k.channel = %(channel)s
            AND k.purpose = %(purpose)s ORDER BY k.occurred_at DESC, k.id DESC LIMIT 1) AS consent,
           s.rfm_cell, s.value_band, s.churn_band,
           (SELECT COALESCE(json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.id), '[]')
            FROM (SELECT sg.id, sg.name FROM {MEMBER} m JOIN {SEGMENT} sg ON sg.id = m.segment_id
                  WHERE m.customer_id = c.id AND NOT sg.is_archived ORDER BY sg.id LIMIT %(max_segments)s) g
           ) AS segments
    FROM {CUSTOMER} c LEFT JOIN {SCORE} s ON s.customer_id = c.id
    WHERE c.merged_into_id IS NULL AND c.anonymised_at IS NULL AND {{where}}
"""


def customer_for_visitor(*, site_id: int, visitor_id: str) -> int | None:
    """The customer a browser belongs to on a site (the latest link wins on a shared computer)."""
    link = (VisitorLink.objects.filter(site_id=site_id, visitor_id=visitor_id).order_by("-linked_at", "-id")
            .values_list("customer_id", flat=True).first())  # fmt: skip
    return link


def personalise(*, customer_id: int | None = None, account_number: str | None = None, offers: int = 3,
                rng=None) -> Personalisation:  # fmt: skip
    """The personalisation of one customer (by id or account number), or ``NEUTRAL``."""
    if customer_id is None and not account_number:
        return NEUTRAL
    where, key = ("c.id = %(key)s", customer_id) if customer_id is not None else ("c.account_number = %(key)s",
                                                                                   account_number)  # fmt: skip
    params = {"channel": Channel.WEB.value, "purpose": Purpose.PROFILING.value, "key": key,
              "max_segments": MAX_SEGMENTS}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_PROFILE.replace("{where}", where), params)
        names = [column.name for column in cursor.description]
        values = cursor.fetchone()
    if values is None:
        return NEUTRAL
    row = dict(zip(names, values, strict=True))
    if row["consent"] != ConsentStatus.GRANTED:
        return NEUTRAL
    segments = row["segments"] if isinstance(row["segments"], list) else []
    scores = None
    if row["rfm_cell"] is not None:
        scores = {"rfm_cell": row["rfm_cell"], "value_band": row["value_band"] or None,
                  "churn_band": row["churn_band"] or None}  # fmt: skip
    return Personalisation(
        personalised=True, customer_id=row["id"], stage=row["stage"], segments=segments, scores=scores,
        offers=next_best_offers(row["id"], n=offers, rng=rng) if offers else [],
    )  # fmt: skip
