"""The 360 page benchmark: the customer holding 500 orders, through the production server.

See ``bench/customers_common.py`` for the dataset and helpers."""

from __future__ import annotations

import time

from bench import BenchmarkSkipped, Run, benchmark
from bench.customers_common import (
    DATASET,
    PAGE_REQUESTS,
    _cursor,
    dataset_size_note,
    ensure_vacuumed,
    how_to_run,
    slowest_statement_note,
    statements,
)

# -- 360 page -----------------------------------------------------------------------------------


def big_customer() -> tuple[int, int]:
    with _cursor() as cursor:
        cursor.execute(
            "SELECT c.id, (SELECT count(*) FROM customers_order o WHERE o.customer_id = c.id) "
            "FROM customers_customer c "
            "WHERE c.tags @> '{bench-360}'::varchar(50)[] ORDER BY c.id LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        raise BenchmarkSkipped("no customer tagged bench-360: load the customers and orders parts")
    return row


@benchmark(
    "customers_360",
    targets={"GET /customers/<pk>/ (500 orders)": 100},
    dataset=DATASET,
    how_to_run=how_to_run("customers_360"),
)
def customers_360(run: Run) -> None:
    """The 360 page of the customer holding 500 orders (1,250 order lines), through the production
    server (gunicorn, 2 uvicorn workers, DEBUG off), signed in as an Admin on one keep-alive connection,
    requests one after another. Afterwards the same page is rendered in-process with every SQL statement
    recorded, to count queries and find the slowest."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.bench_foundation import (
        BENCH_ADMIN_PASSWORD,
        BENCH_ADMIN_USERNAME,
        KeepAliveClient,
        bench_admin_ensure,
        production_server,
    )

    ensure_vacuumed()
    pk, orders = big_customer()
    path = f"/customers/{pk}/"
    operation = "GET /customers/<pk>/ (500 orders)"
    bench_admin_ensure()
    with production_server(workers=2) as base_url:
        client = KeepAliveClient(base_url)
        client.login(BENCH_ADMIN_USERNAME, BENCH_ADMIN_PASSWORD)
        size = 0
        for _ in range(20):
            status, _headers, body = client.request("GET", path)
            if status != 200:
                raise RuntimeError(f"{path} answered {status} during warm-up")
            size = len(body)
        for _ in range(PAGE_REQUESTS):
            started = time.perf_counter()
            status, _headers, _body = client.request("GET", path)
            run.record(operation, time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
        client.close()
    dataset_size_note(run)
    run.note(f"customer {pk} with {orders} orders; {PAGE_REQUESTS} measured requests after 20 warm-up ones; "
             f"response {size:,} B (gzip accepted)")  # fmt: skip
    # In-process diagnosis: how many statements, and which one costs most.
    browser = Client(SERVER_NAME="127.0.0.1")
    browser.force_login(get_user_model().objects.get(username=BENCH_ADMIN_USERNAME))
    browser.get(path)
    with statements() as seen:
        started = time.perf_counter()
        response = browser.get(path)
        total = time.perf_counter() - started
    sql_ms = sum(s for s, _sql, _p in seen) * 1000
    run.note(f"in-process render (Django test client, same settings): {response.status_code}, {total * 1000:.0f} ms, "
             f"{len(seen)} SQL statements taking {sql_ms:.0f} ms in all")  # fmt: skip
    top = sorted(seen, key=lambda s: -s[0])[:3]
    run.note("slowest statements: " + "; ".join(f"{s * 1000:.1f} ms `{' '.join(q.split())[:160]}`" for s, q, _p in top))
    if run.samples[operation] and sorted(run.samples[operation])[int(0.95 * len(run.samples[operation]))] > 0.1:
        slowest_statement_note(run, seen, "360 page")
