"""Bench data for the web area: web events of the bench site, a fifth of them linked to bench customers.

One part, ``web_events``, after ``customers``: 20 events per bench customer (the default scale 1000
gives 2,000,000; ``--scale 10000`` gives the 20,000,000 of the issue; ``RELAIS_BENCH_WEB_EVENTS``
overrides), generated server-side with one ``INSERT ... SELECT`` over ``generate_series`` (deterministic
arithmetic on the row index, no random(): the same scale gives the same rows). Sessions have 8 events
(page views, product views, a cart addition, an abandoned cart every fourth session), a visitor has
3 sessions, and every other visitor is linked to a bench customer (a ``VisitorLink`` each), so half
of the events carry a customer. Sessions are spread over the last 6 days. The bench site has the key
``bench-site-key``; session ids start with ``bs-`` and visitor ids with ``bv-``, which is how
``clear`` and the benchmarks find them. Secondary indexes are dropped during the load and rebuilt.
"""

from __future__ import annotations

import os
import time

from psycopg import Cursor

from bench.generate import DatasetPart, dataset_part, indexes_dropped
from bench.generate_customers import _bulk_session, bench_ids_sql, customers_for_scale

EVENTS_PER_CUSTOMER = 20
EVENTS_PER_SESSION = 8
SESSIONS_PER_VISITOR = 3
SITE_KEY = "bench-site-key"
SITE_NAME = "Bench shop"
SPREAD_MINUTES = 6 * 24 * 60


def web_events_for_scale(scale: int) -> int:
    override = os.environ.get("RELAIS_BENCH_WEB_EVENTS")
    return int(override) if override else customers_for_scale(scale) * EVENTS_PER_CUSTOMER


def bench_site_id(cursor: Cursor) -> int:
    """The bench site's id (created on first use)."""
    cursor.execute(
        "INSERT INTO channels_site (name, key, allowed_origins, is_active, created_at) "
        "VALUES (%s, %s, '', true, now()) ON CONFLICT (key) DO UPDATE SET is_active = true RETURNING id",
        [SITE_NAME, SITE_KEY],
    )
    return cursor.fetchone()[0]


def clear_bench_web(cursor: Cursor, site_id: int) -> None:
    """Delete the bench site's events and links, and the timeline entries summarised from them."""
    cursor.execute(
        "DELETE FROM channels_interaction WHERE channel = 'web' AND external_id LIKE 'bs-%%' "
        "AND customer_id IN (" + bench_ids_sql(("bench",)) + ")"
    )
    cursor.execute("DELETE FROM channels_webevent WHERE site_id = %s", [site_id])
    cursor.execute("DELETE FROM channels_visitorlink WHERE site_id = %s", [site_id])


@dataset_part
class WebEventsPart(DatasetPart):
    """Web events of the bench site (``bs-`` sessions, ``bv-`` visitors) and their visitor links."""

    name = "web_events"
    version = 1
    depends_on = ("customers",)

    def rows_for_scale(self, scale: int) -> int:
        return web_events_for_scale(scale)

    def count(self, cursor: Cursor) -> int:
        cursor.execute("SELECT id FROM channels_site WHERE key = %s", [SITE_KEY])
        row = cursor.fetchone()
        if row is None:
            return 0
        cursor.execute("SELECT count(*) FROM channels_webevent WHERE site_id = %s", [row[0]])
        return cursor.fetchone()[0]

    def clear(self, cursor: Cursor) -> None:
        _bulk_session(cursor)
        clear_bench_web(cursor, bench_site_id(cursor))

    def load(self, cursor: Cursor, *, rows: int, seed: int) -> None:
        _bulk_session(cursor)
        site_id = bench_site_id(cursor)
        cursor.execute(f"SELECT min(id), count(*) FROM ({bench_ids_sql(('bench',))}) b")  # noqa: S608
        first_customer, customers = cursor.fetchone()
        if not customers:
            raise RuntimeError("web events need the bench customers (part 'customers')")
        per_visitor = EVENTS_PER_SESSION * SESSIONS_PER_VISITOR
        session = f"(i / {EVENTS_PER_SESSION})"
        visitor = f"(i / {per_visitor})"
        step = f"(i % {EVENTS_PER_SESSION})"
        # Every other visitor is a customer's browser; bench customer ids are consecutive from the first.
        customer = f"CASE WHEN {visitor} % 2 = 0 THEN {first_customer} + ({visitor} / 2) % {customers} END"
        event_type = (
            f"CASE {step} WHEN 2 THEN 'product_view' WHEN 5 THEN 'product_view' WHEN 4 THEN 'cart_add' "
            f"WHEN 7 THEN CASE WHEN {session} % 4 = 0 THEN 'cart_abandon' ELSE 'page_view' END ELSE 'page_view' END"
        )
        product = f"(({session} * 31 + {step}) % 2000)"
        sku = f"CASE WHEN {step} IN (2, 4, 5) THEN 'BENCH-P' || lpad({product}::text, 5, '0') ELSE '' END"
        with indexes_dropped(cursor, "channels_webevent", "channels_visitorlink"):
            started = time.perf_counter()
            cursor.execute(
                f"""
                INSERT INTO channels_webevent (site_id, visitor_id, session_id, customer_id, event_type,
                    occurred_at, url, title, product_sku, properties, received_at)
                SELECT {site_id}, 'bv-' || {visitor}, 'bs-' || {session}, {customer}, {event_type},
                       now() - make_interval(mins => (({session} * 7919) % {SPREAD_MINUTES} + 60)::int)
                             + make_interval(mins => ({step})::int),
                       'https://shop.example.com/' || CASE WHEN {step} IN (2, 4, 5) THEN 'p/' || {product}
                           ELSE 'page/' || ({step} * 13 + {session} % 50) END,
                       'Page ' || {step}, {sku}, '{{}}'::jsonb, now()
                FROM generate_series(0::bigint, {rows - 1}) i
                """  # noqa: S608 - integers only (bigint: session * 7919 passes 2^31 at 20M rows)
            )
            print(f"    channels_webevent: {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
            cursor.execute(
                f"""
                INSERT INTO channels_visitorlink (customer_id, site_id, visitor_id, via, linked_at)
                SELECT {first_customer} + (v / 2) % {customers}, {site_id}, 'bv-' || v, 'login', now()
                FROM generate_series(0, {(rows - 1) // per_visitor}) v WHERE v % 2 = 0
                ON CONFLICT DO NOTHING
                """  # noqa: S608 - integers only
            )
