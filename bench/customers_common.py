"""Shared helpers of the customer-record benchmarks (``bench/bench_customers_*.py``, one module per benchmark).

They run on the ``customers`` and ``orders`` parts of ``bench/generate_customers.py`` (100 customers per
``--scale`` unit: ``--scale 10000`` is the 1M-customer run the targets are set for). Where a statement
is slow, the benchmark runs ``EXPLAIN (ANALYZE, BUFFERS)`` on the slowest statement it saw and adds the
plan under its table, so every run carries its own evidence.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import bench.generate_customers  # noqa: F401 - registers the customers and orders parts
from bench import Run

DATASET = ("staff", "customers", "orders")
SEARCH_SAMPLES = 200  # per query kind
RESOLVE_SAMPLES = 300  # per input kind
PAGE_REQUESTS = 200
MERGE_PAIRS = 30
MERGE_ROWS = {"orders": 150, "lines": 300, "contact_points": 20, "addresses": 10, "consents": 20}  # 500 per customer
SEED = 7


def how_to_run(name: str) -> str:
    return (
        f"`RELAIS_BENCH_CUSTOMERS=1000000 python -m bench --only {name}` "
        "(1M customers; without the variable, 100 per `--scale` unit)"
    )


# -- Helpers ------------------------------------------------------------------------------------


def _cursor():
    from django.db import connection

    return connection.cursor()


def ensure_vacuumed() -> None:
    """VACUUM ANALYZE the customer tables once after a load (it cannot run inside the load's transaction).

    Without it the first reads of COPY-loaded pages set hint bits (writes) and index-only scans fall back
    to the heap: the first benchmark would measure the load, not the queries.
    """
    tables = ["customers_customer", "customers_contactpoint", "customers_postaladdress", "customers_consent",
              "customers_order", "customers_orderline", "customers_product"]  # fmt: skip
    with _cursor() as cursor:
        cursor.execute(
            "SELECT bool_or(GREATEST(COALESCE(s.last_vacuum, '-infinity'), COALESCE(s.last_autovacuum, '-infinity'))"
            "               < (SELECT max(loaded_at) FROM bench_dataset WHERE name IN ('customers', 'orders'))) "
            "FROM pg_stat_user_tables s WHERE s.relname = ANY(%s)",
            [tables],
        )
        if not cursor.fetchone()[0]:
            return
        started = time.perf_counter()
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        print(f"  VACUUM ANALYZE after the load: {time.perf_counter() - started:.1f} s", flush=True)


@contextmanager
def statements() -> Iterator[list[tuple[float, str, object]]]:
    """Record every SQL statement Django runs in the block: (seconds, sql, params)."""
    from django.db import connection

    seen: list[tuple[float, str, object]] = []

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((time.perf_counter() - started, sql, params))

    with connection.execute_wrapper(wrapper):
        yield seen


def explain(sql: str, params, *, rollback: bool = False) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of one statement, as text; in a rolled-back transaction if it writes."""
    from django.db import transaction

    class _Rollback(Exception):
        pass

    plan: list[str] = []
    try:
        with transaction.atomic():
            with _cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
            if rollback:
                raise _Rollback
    except _Rollback:
        pass
    return "\n".join(plan)


def plan_note(title: str, sql: str, plan: str) -> str:
    """A note holding a statement and its plan as an indented code block (Markdown inside a list item)."""
    one_line = " ".join(sql.split())
    if len(one_line) > 600:
        one_line = one_line[:600] + " …"
    body = "\n".join("  " + line for line in ["```", one_line, "", *plan.splitlines(), "```"])
    return f"{title}:\n\n{body}"


def slowest_statement_note(run: Run, samples: list[tuple[float, str, object]], label: str, *, rollback=False):
    if not samples:
        return
    seconds, sql, params = max(samples, key=lambda s: s[0])
    if sql.lstrip().upper().startswith(("SET", "SAVEPOINT", "RELEASE")):
        return
    title = f"{label}: slowest statement ({seconds * 1000:.1f} ms when measured), EXPLAIN (ANALYZE, BUFFERS) run again"
    run.note(plan_note(title, sql, explain(sql, params, rollback=rollback)))


def dataset_size_note(run: Run) -> None:
    with _cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM customers_contactpoint), "
            "(SELECT count(*) FROM customers_postaladdress), (SELECT count(*) FROM customers_order), "
            "(SELECT count(*) FROM customers_orderline), (SELECT count(*) FROM customers_consent), "
            "pg_size_pretty(pg_database_size(current_database()))"
        )
        c, cp, a, o, ol, cs, size = cursor.fetchone()
        cursor.execute("SELECT name, load_seconds FROM bench_dataset WHERE name IN ('customers', 'orders')")
        loads = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in cursor.fetchall())
    run.note(
        f"tables: {c:,} customers, {cp:,} contact points, {a:,} addresses, {o:,} orders, {ol:,} order lines, "
        f"{cs:,} consent entries; database {size}; load time of the parts: {loads}"
    )
