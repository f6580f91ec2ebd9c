"""Merge benchmark: `customer_merge` of fresh pairs holding 500 related rows each.

See ``bench/customers_common.py`` for the dataset and helpers."""

from __future__ import annotations

import time
from collections import defaultdict

from bench import Run, benchmark
from bench.customers_common import (
    DATASET,
    MERGE_PAIRS,
    MERGE_ROWS,
    _cursor,
    dataset_size_note,
    ensure_vacuumed,
    how_to_run,
    slowest_statement_note,
    statements,
)
from bench.generate_customers import _bulk_session, bench_ids_sql, clear_bench_customers

# -- Merge --------------------------------------------------------------------------------------


def create_merge_pairs(pairs: int) -> list[tuple[int, int]]:
    """``pairs`` fresh pairs of customers (tag ``bench-merge``), each customer with 500 related rows.

    Per customer: 150 orders with 300 lines, 20 contact points (5 of them shared with the other of the
    pair, to be de-duplicated), 10 addresses and 20 consent entries. Inserted set-based with triggers
    off (not measured).
    """
    from django.db import transaction

    rows = MERGE_ROWS
    count = pairs * 2
    with transaction.atomic(), _cursor() as django_cursor:
        cursor = django_cursor.cursor
        _bulk_session(cursor)
        cursor.execute(
            f"""
            INSERT INTO customers_customer (kind, title, given_name, family_name, company_name, birth_date, language,
                stage, stage_entered_at, preferred_channel, tags, attributes, notes, created_via, created_at,
                updated_at)
            SELECT 'person', 'ms', 'Camille', 'Fusion' || (n / 2), '', date '1980-01-01' + (n / 2), 'fr',
                   CASE WHEN n % 2 = 0 THEN 'customer' ELSE 'lead' END, now(), '', '{{bench-merge}}', '{{}}', '',
                   'import', now() - interval '1 day' * n, now()
            FROM generate_series(0, {count} - 1) n
            RETURNING id
            """  # noqa: S608 - integers only
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute("CREATE TEMP TABLE bench_pair ON COMMIT DROP AS SELECT unnest(%s::bigint[]) AS id", [ids])
        cursor.execute(
            f"""
            INSERT INTO customers_contactpoint (customer_id, kind, value, raw_value, label, social_network,
                is_primary, is_verified, is_undeliverable, undeliverable_reason, created_at, updated_at)
            SELECT b.id, 'email',
                   CASE WHEN n <= 5 THEN 'shared' || n || '.pair' || ((b.id - {ids[0]}) / 2) || '@fusion.example'
                        ELSE 'own' || n || '.' || b.id || '@fusion.example' END,
                   '', '', '', n = 1, false, false, '', now(), now()
            FROM bench_pair b, generate_series(1, {rows["contact_points"]}) n
            """  # noqa: S608 - integers only
        )
        cursor.execute(
            f"""
            INSERT INTO customers_postaladdress (customer_id, line1, line2, line3, line4, line5, line6, postcode, city,
                country, is_primary, is_undeliverable, created_at, updated_at)
            SELECT b.id, 'MME CAMILLE FUSION', '', '', n || ' RUE DE LA PAIX', '', '75002 PARIS', '75002', 'Paris',
                   'FR', n = 1, false, now(), now()
            FROM bench_pair b, generate_series(1, {rows["addresses"]}) n
            """  # noqa: S608 - integers only
        )
        cursor.execute(
            f"""
            INSERT INTO customers_consent (customer_id, channel, purpose, status, source, occurred_at, proof_text,
                user_agent, recorded_at)
            SELECT b.id, (ARRAY['email', 'sms', 'phone', 'postal_mail'])[1 + n % 4], 'marketing',
                   CASE WHEN n % 3 = 0 THEN 'withdrawn' ELSE 'granted' END, 'import',
                   now() - interval '1 hour' * n, '', '', now()
            FROM bench_pair b, generate_series(1, {rows["consents"]}) n
            """  # noqa: S608 - integers only
        )
        cursor.execute(
            f"""
            INSERT INTO customers_order (number, source, external_id, status, sales_channel, store, total_amount,
                currency, placed_at, updated_at, customer_id)
            SELECT 'CMD-M' || b.id || '-' || n, 'bench-merge', 'M' || b.id || '-' || n, 'delivered', 'web', '', 10,
                   'EUR', now() - interval '1 day' * n, now(), b.id
            FROM bench_pair b, generate_series(1, {rows["orders"]}) n
            """  # noqa: S608 - integers only
        )
        per_order = rows["lines"] // rows["orders"]
        cursor.execute(
            f"""
            INSERT INTO customers_orderline (sku, label, quantity, unit_price, amount, customer_id, order_id)
            SELECT 'SKU', 'Article', 1, 5, 5, o.customer_id, o.id
            FROM customers_order o, generate_series(1, {per_order}) n
            WHERE o.customer_id IN (SELECT id FROM bench_pair)
            """  # noqa: S608 - integers only
        )
        cursor.execute("ANALYZE bench_pair")
    return [(ids[i], ids[i + 1]) for i in range(0, len(ids), 2)]


@benchmark(
    "customers_merge",
    targets={"merge (500 + 500 related rows)": 200},
    dataset=DATASET,
    how_to_run=how_to_run("customers_merge"),
)
def customers_merge(run: Run) -> None:
    """`customers.services.merge.customer_merge(survivor=..., duplicate=..., acting_user=...)` in-process on
    fresh pairs of customers created for the run (not measured), each customer with 500 related rows:
    150 orders with 300 lines, 20 contact points (5 shared between the two, de-duplicated by the merge),
    10 addresses and 20 consent entries. One merge per pair: survivorship preview, re-pointing of every
    customer-keyed table found by introspection, history (pghistory triggers on), deferred composite
    keys checked, commit."""
    from django.contrib.auth import get_user_model

    from bench.bench_foundation import BENCH_ADMIN_USERNAME, bench_admin_ensure
    from customers.models import Customer
    from customers.services.merge import customer_merge

    ensure_vacuumed()
    bench_admin_ensure()
    admin = get_user_model().objects.get(username=BENCH_ADMIN_USERNAME)
    _remove_merge_pairs()
    started = time.perf_counter()
    pairs = create_merge_pairs(MERGE_PAIRS)
    run.note(f"{len(pairs)} pairs created in {time.perf_counter() - started:.1f} s (not measured)")
    per_statement: dict[str, list[float]] = defaultdict(list)
    slowest: tuple[float, list] = (0.0, [])
    try:
        for survivor_id, duplicate_id in pairs:
            survivor, duplicate = Customer.objects.get(pk=survivor_id), Customer.objects.get(pk=duplicate_id)
            with statements() as seen:
                started = time.perf_counter()
                customer_merge(survivor=survivor, duplicate=duplicate, acting_user=admin)
                elapsed = time.perf_counter() - started
            run.record("merge (500 + 500 related rows)", elapsed)
            for seconds, sql, _params in seen:
                per_statement[" ".join(sql.split())[:140]].append(seconds)
            if elapsed > slowest[0]:
                slowest = (elapsed, seen)
        with _cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM customers_order WHERE source = 'bench-merge' AND customer_id = ANY(%s)",
                [[s for s, _d in pairs]],
            )
            moved = cursor.fetchone()[0]
        expected = len(pairs) * MERGE_ROWS["orders"] * 2
        if moved != expected:
            run.problem(f"after the merges the survivors hold {moved} orders, {expected} expected")
        statements_per_merge = sum(len(v) for v in per_statement.values()) / max(len(pairs), 1)
        top = sorted(per_statement.items(), key=lambda kv: -sum(kv[1]))[:5]
        run.note(f"{statements_per_merge:.0f} SQL statements per merge; most time in: "
                 + "; ".join(f"{sum(v) / len(pairs) * 1000:.1f} ms/merge `{q}`" for q, v in top))  # fmt: skip
        values = sorted(run.samples["merge (500 + 500 related rows)"])
        if values[int(0.95 * (len(values) - 1))] > 0.2:
            slowest_statement_note(run, slowest[1], "merge", rollback=True)
        dataset_size_note(run)
    finally:
        _remove_merge_pairs()


def _remove_merge_pairs() -> int:
    from django.db import transaction

    with transaction.atomic(), _cursor() as cursor:
        pairs = bench_ids_sql(("bench-merge",))
        where = f"customer_low_id IN ({pairs}) OR customer_high_id IN ({pairs})"
        cursor.execute(f"DELETE FROM customers_duplicatepair WHERE {where}")  # noqa: S608
        return clear_bench_customers(cursor.cursor, ("bench-merge",))
