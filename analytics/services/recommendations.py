# ruff: noqa: S608 -- table and column names below come from model metadata; values are parameters.
"""Item-to-item co-purchase similarities (nightly, one SQL statement), the offers shown, and the loop
that marks an offer clicked when the customer's web events show the product afterwards."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analytics.models import OfferImpression, ProductSimilarity
from channels.choices import WebEventType
from channels.models import WebEvent
from customers.models import Order, OrderLine, Product

ORDER = Order._meta.db_table
LINE = OrderLine._meta.db_table
PRODUCT = Product._meta.db_table
SIMILARITY = ProductSimilarity._meta.db_table
IMPRESSION = OfferImpression._meta.db_table
WEB_EVENT = WebEvent._meta.db_table
NOT_PURCHASES = [str(Order.Status.CANCELLED), str(Order.Status.RETURNED)]
CLICK_WINDOW = datetime.timedelta(days=1)  # a click on (or view of) the product this soon after it was shown


def top_n() -> int:
    return int(getattr(settings, "RECOMMENDATIONS_TOP_N", 20))


def similarities_compute() -> int:
    """Replace every product's top-N co-purchase neighbours; return how many pairs are stored.

    Buyers are counted once per product whatever the quantities (a set of buyers per product); the
    score is the cosine |A and B| / sqrt(|A| |B|), ties broken by co-buyers then product id. One
    transaction: readers see the old table or the new one.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SIMILARITY}")
        cursor.execute(
            f"""
            WITH buyers AS (
                SELECT DISTINCT l.customer_id, l.product_id
                FROM {LINE} l JOIN {ORDER} o ON o.customer_id = l.customer_id AND o.id = l.order_id
                WHERE l.product_id IS NOT NULL AND o.status <> ALL(%(not_purchases)s)
            ), counts AS (
                SELECT product_id, count(*) AS n FROM buyers GROUP BY product_id
            ), pairs AS (
                SELECT a.product_id AS product_id, b.product_id AS similar_id, count(*) AS co_buyers
                FROM buyers a JOIN buyers b ON b.customer_id = a.customer_id AND b.product_id <> a.product_id
                GROUP BY a.product_id, b.product_id
            ), ranked AS (
                SELECT p.product_id, p.similar_id, p.co_buyers, p.co_buyers / sqrt(na.n * nb.n) AS score,
                       row_number() OVER (PARTITION BY p.product_id
                                          ORDER BY p.co_buyers / sqrt(na.n * nb.n) DESC, p.co_buyers DESC,
                                                   p.similar_id) AS rank
                FROM pairs p JOIN counts na ON na.product_id = p.product_id
                JOIN counts nb ON nb.product_id = p.similar_id
            )
            INSERT INTO {SIMILARITY} (product_id, similar_id, score, co_buyers, rank, computed_at)
            SELECT product_id, similar_id, score, co_buyers, rank, %(now)s FROM ranked WHERE rank <= %(n)s
            """,
            {"not_purchases": NOT_PURCHASES, "now": timezone.now(), "n": top_n()},
        )
        return cursor.rowcount


def offers_log(*, customer_id: int, offers: list, placement: str, site_id: int | None = None,
               visitor_id: str = "") -> list[OfferImpression]:  # fmt: skip
    """Record that these offers were shown to the customer (one row each, one INSERT).

    The fatigue rule reads these rows; ``offers_clicks_record`` closes the loop from web events.
    """
    now = timezone.now()
    rows = [OfferImpression(customer_id=customer_id, product_id=offer.product_id, placement=placement,
                            is_exploration=offer.is_exploration, score=offer.score, shown_at=now, site_id=site_id,
                            visitor_id=visitor_id[:64]) for offer in offers]  # fmt: skip
    return OfferImpression.objects.bulk_create(rows)


def offers_clicks_record(*, since: datetime.datetime | None = None) -> int:
    """Mark offers clicked when the customer clicked or viewed that product within a day of seeing it.

    Each web event credits the latest showing of that product before it (a product shown three times
    then clicked once counts one click). Set-based: one UPDATE ... FROM, driven by the recent offers
    and the customer-keyed index of web events; an offer already marked keeps its first click.
    """
    since = since or timezone.now() - datetime.timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {IMPRESSION} i SET clicked_at = hit.first_at
            FROM (
                SELECT impression_id, min(occurred_at) AS first_at
                FROM (
                    SELECT DISTINCT ON (e.id) e.id, e.occurred_at, i2.id AS impression_id
                    FROM {IMPRESSION} i2
                    JOIN {PRODUCT} p ON p.id = i2.product_id
                    JOIN {WEB_EVENT} e ON e.customer_id = i2.customer_id AND e.product_sku = p.sku
                         AND e.event_type = ANY(%(types)s) AND e.occurred_at >= i2.shown_at
                         AND e.occurred_at <= i2.shown_at + %(window)s
                    WHERE i2.shown_at >= %(since)s
                    ORDER BY e.id, i2.shown_at DESC, i2.id DESC
                ) credited
                GROUP BY impression_id
            ) hit
            WHERE i.id = hit.impression_id AND i.clicked_at IS NULL
            """,
            {"types": [WebEventType.CLICK.value, WebEventType.PRODUCT_VIEW.value, WebEventType.CART_ADD.value],
             "window": CLICK_WINDOW, "since": since},
        )  # fmt: skip
        return cursor.rowcount
