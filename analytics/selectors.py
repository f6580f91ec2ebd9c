# ruff: noqa: S608 -- table and column names below come from model metadata; values are parameters.
"""Reads of the analytics app: a customer's scores and history, and the next best offers.

Next best offer policy (docs/analytics.md): each of the ``n`` slots is, with probability
``ANALYTICS_EXPLORATION_SHARE`` (0.15), an *exploration* slot filled with a random active product
from a category the customer has never bought; otherwise it takes the next *exploitation* candidate:
products the customer does not own, ranked by the summed similarity to what they own times a margin
factor (the catalogue price stands for the margin: Product has no cost column). A customer with no
purchase gets the best sellers as exploitation candidates. The fatigue rule rests an offer shown
``ANALYTICS_FATIGUE_IMPRESSIONS`` (3) times in ``ANALYTICS_FATIGUE_DAYS`` (30) days without a click.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from analytics.models import CustomerScore, CustomerScoreMonth, OfferImpression, ProductSimilarity
from customers.models import Order, OrderLine, Product

ORDER = Order._meta.db_table
LINE = OrderLine._meta.db_table
PRODUCT = Product._meta.db_table
SIMILARITY = ProductSimilarity._meta.db_table
IMPRESSION = OfferImpression._meta.db_table
NOT_PURCHASES = [str(Order.Status.CANCELLED), str(Order.Status.RETURNED)]
EXPLORATION_POOL = 100


@dataclass(frozen=True)
class Offer:
    product_id: int
    sku: str
    name: str
    category: str
    price: object
    score: float
    is_exploration: bool


def exploration_share() -> float:
    return float(getattr(settings, "ANALYTICS_EXPLORATION_SHARE", 0.15))


def _fatigue() -> tuple[int, int]:
    impressions = int(getattr(settings, "ANALYTICS_FATIGUE_IMPRESSIONS", 3))
    return impressions, int(getattr(settings, "ANALYTICS_FATIGUE_DAYS", 30))


def customer_score(customer_id: int) -> CustomerScore | None:
    return CustomerScore.objects.filter(customer_id=customer_id).first()


def customer_score_history(customer_id: int, *, months: int = 12) -> list[CustomerScoreMonth]:
    """The last ``months`` monthly snapshots, oldest first (for the 360 page's small chart)."""
    rows = list(CustomerScoreMonth.objects.filter(customer_id=customer_id).order_by("-month")[:months])
    return rows[::-1]


_CANDIDATES = f"""
    WITH owned AS (
        SELECT DISTINCT l.product_id
        FROM {LINE} l JOIN {ORDER} o ON o.customer_id = l.customer_id AND o.id = l.order_id
        WHERE l.customer_id = %(customer)s AND l.product_id IS NOT NULL AND o.status <> ALL(%(not_purchases)s)
    ), rested AS (
        SELECT product_id FROM {IMPRESSION}
        WHERE customer_id = %(customer)s AND shown_at >= %(fatigue_since)s
        GROUP BY product_id HAVING count(*) >= %(fatigue_n)s AND count(clicked_at) = 0
    ), affinity AS (
        SELECT s.similar_id AS product_id, sum(s.score) AS affinity
        FROM {SIMILARITY} s WHERE s.product_id IN (SELECT product_id FROM owned)
        GROUP BY s.similar_id
    ), best_sellers AS (
        SELECT s.product_id, sum(s.co_buyers)::float AS affinity FROM {SIMILARITY} s
        WHERE NOT EXISTS (SELECT 1 FROM owned) GROUP BY s.product_id
    ), candidates AS (
        SELECT * FROM affinity UNION ALL SELECT * FROM best_sellers
    )
    SELECT p.id, p.sku, p.name, p.category, p.price,
           c.affinity * (0.5 + 0.5 * COALESCE(p.price / NULLIF(max(p.price) OVER (), 0), 0)) AS score
    FROM candidates c JOIN {PRODUCT} p ON p.id = c.product_id AND p.is_active
    WHERE p.id NOT IN (SELECT product_id FROM owned) AND p.id NOT IN (SELECT product_id FROM rested)
    ORDER BY score DESC NULLS LAST, p.id
    LIMIT %(limit)s
"""

_EXPLORATION = f"""
    WITH owned AS (
        SELECT DISTINCT l.product_id
        FROM {LINE} l JOIN {ORDER} o ON o.customer_id = l.customer_id AND o.id = l.order_id
        WHERE l.customer_id = %(customer)s AND l.product_id IS NOT NULL AND o.status <> ALL(%(not_purchases)s)
    ), rested AS (
        SELECT product_id FROM {IMPRESSION}
        WHERE customer_id = %(customer)s AND shown_at >= %(fatigue_since)s
        GROUP BY product_id HAVING count(*) >= %(fatigue_n)s AND count(clicked_at) = 0
    )
    SELECT p.id, p.sku, p.name, p.category, p.price, 0.0 AS score
    FROM {PRODUCT} p
    WHERE p.is_active AND p.id NOT IN (SELECT product_id FROM rested)
      AND p.category NOT IN (SELECT x.category FROM {PRODUCT} x WHERE x.id IN (SELECT product_id FROM owned))
    ORDER BY p.id
    LIMIT %(limit)s
"""


def _offers(cursor, *, is_exploration: bool) -> list[Offer]:
    names = [column.name for column in cursor.description]
    return [
        Offer(product_id=row["id"], sku=row["sku"], name=row["name"], category=row["category"], price=row["price"],
              score=float(row["score"] or 0), is_exploration=is_exploration)
        for row in (dict(zip(names, values, strict=True)) for values in cursor.fetchall())
    ]  # fmt: skip


def next_best_offers(customer_id: int, *, n: int = 3, rng: random.Random | None = None,
                     share: float | None = None) -> list[Offer]:  # fmt: skip
    """Up to ``n`` offers for the customer: exploitation and exploration slots (module docstring).

    Two queries on index range scans (the customer's order lines, the neighbours of their products);
    ``rng`` makes the exploration draws reproducible in tests.
    """
    rng = rng or random.SystemRandom()
    share = exploration_share() if share is None else share
    fatigue_n, fatigue_days = _fatigue()
    params = {"customer": customer_id, "not_purchases": NOT_PURCHASES, "fatigue_n": fatigue_n,
              "fatigue_since": timezone.now() - datetime.timedelta(days=fatigue_days)}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES, {**params, "limit": n})
        exploit = _offers(cursor, is_exploration=False)
        draws = [rng.random() < share for _slot in range(n)]
        explore: list[Offer] = []
        if any(draws) or len(exploit) < n:
            cursor.execute(_EXPLORATION, {**params, "limit": EXPLORATION_POOL})
            pool = _offers(cursor, is_exploration=True)
            taken = {offer.product_id for offer in exploit}
            pool = [offer for offer in pool if offer.product_id not in taken]
            rng.shuffle(pool)
            explore = pool
    offers: list[Offer] = []
    for wants_exploration in draws:
        source, other = (explore, exploit) if wants_exploration else (exploit, explore)
        if source:
            offers.append(source.pop(0))
        elif other:
            offers.append(other.pop(0))
    return offers
