"""The 360 timeline benchmark: the first page (50 entries) of a customer with 5,000 interactions.

Data in ``bench/generate_channels_timeline.py`` (10 interactions per bench customer, one with 5,000).
"""

from __future__ import annotations

import time

from bench import BenchmarkSkipped, Run, benchmark
from bench.customers_common import _cursor, explain, plan_note, statements
from bench.generate_channels_timeline import heavy_customer_id

DATASET = ("staff", "customers", "interactions")
SELECTOR_CALLS = 300
PAGE_REQUESTS = 200
FIRST_PAGE = "timeline first page, selector (5,000 interactions)"
NEXT_PAGE = "timeline page 20, selector (cursor)"
FILTERED = "timeline first page, email only, selector"
HTTP_PAGE = "GET timeline first page (htmx), production server"


def _vacuumed() -> None:
    with _cursor() as cursor:
        cursor.execute("SELECT n_dead_tup + n_mod_since_analyze FROM pg_stat_user_tables "
                       "WHERE relname = 'channels_interaction'")  # fmt: skip
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("VACUUM (ANALYZE) channels_interaction")


@benchmark(
    "channels_timeline",
    targets={FIRST_PAGE: 30, HTTP_PAGE: 30},
    dataset=DATASET,
    how_to_run="`RELAIS_BENCH_CUSTOMERS=1000000 python -m bench --only channels_timeline` (10M interactions; "
    "without the variable, 10 per bench customer at the default scale)",
)
def channels_timeline(run: Run) -> None:
    """``interaction_timeline(customer=..., limit=50)`` in-process for the customer holding 5,000
    interactions (the first page, page 20 through the keyset cursor, and the first page filtered to one
    channel), then the htmx timeline body ``GET /channels/customers/<pk>/timeline/`` through the
    production server (gunicorn, 2 uvicorn workers), signed in as an Admin on one keep-alive connection.
    The EXPLAIN (ANALYZE, BUFFERS) of the first-page query is printed under the table."""
    from channels.selectors import TimelineCursor, interaction_timeline

    _vacuumed()
    with _cursor() as cursor:
        pk = heavy_customer_id(cursor)
        if pk is None:
            raise BenchmarkSkipped("no heavy timeline: load the 'interactions' part")
        cursor.execute("SELECT count(*) FROM channels_interaction WHERE customer_id = %s", [pk])
        heavy = cursor.fetchone()[0]
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'channels_interaction'")
        total = cursor.fetchone()[0]
    for _ in range(20):
        interaction_timeline(customer=pk)
    for _ in range(SELECTOR_CALLS):
        with run.timer(FIRST_PAGE):
            page = interaction_timeline(customer=pk)
    if len(page.entries) != 50:
        run.problem(f"the first page holds {len(page.entries)} entries, not 50")
    cursor_at = page
    for _ in range(19):
        cursor_at = interaction_timeline(customer=pk, before=TimelineCursor.decode(cursor_at.next_cursor))
    before = TimelineCursor.decode(cursor_at.next_cursor)
    for _ in range(SELECTOR_CALLS):
        with run.timer(NEXT_PAGE):
            interaction_timeline(customer=pk, before=before)
    for _ in range(SELECTOR_CALLS):
        with run.timer(FILTERED):
            interaction_timeline(customer=pk, channels=["email"])
    with statements() as seen:
        interaction_timeline(customer=pk)
    if len(seen) != 1:
        run.problem(f"a timeline page ran {len(seen)} SQL statements, not 1")
    _seconds, sql, params = seen[0]
    run.note(f"dataset: {total:,} interactions (estimate); customer {pk} holds {heavy:,}")
    run.note(plan_note("first page: EXPLAIN (ANALYZE, BUFFERS)", sql, explain(sql, params)))
    _http(run, pk)


def _http(run: Run, pk: int) -> None:
    from bench.bench_foundation import (
        BENCH_ADMIN_PASSWORD,
        BENCH_ADMIN_USERNAME,
        KeepAliveClient,
        bench_admin_ensure,
        production_server,
    )

    path = f"/channels/customers/{pk}/timeline/"
    bench_admin_ensure()
    with production_server(workers=2) as base_url:
        client = KeepAliveClient(base_url)
        client.login(BENCH_ADMIN_USERNAME, BENCH_ADMIN_PASSWORD)
        size = 0
        for _ in range(20):
            status, _headers, body = client.request("GET", path, headers={"HX-Request": "true"})
            if status != 200:
                raise RuntimeError(f"{path} answered {status} during warm-up")
            size = len(body)
        for _ in range(PAGE_REQUESTS):
            started = time.perf_counter()
            status, _headers, _body = client.request("GET", path, headers={"HX-Request": "true"})
            run.record(HTTP_PAGE, time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
        client.close()
    run.note(f"HTTP: {PAGE_REQUESTS} measured requests after 20 warm-up ones; response {size:,} B")
    _statements_pinned(run, path)


# session, user, user permissions, group permissions, the customer, the page of entries
PAGE_STATEMENTS = 6


def _statements_pinned(run: Run, path: str) -> None:
    """The htmx page in-process once, its SQL statements counted: more than PAGE_STATEMENTS is a problem."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.bench_foundation import BENCH_ADMIN_USERNAME

    browser = Client(SERVER_NAME="127.0.0.1")
    browser.force_login(get_user_model().objects.get(username=BENCH_ADMIN_USERNAME))
    browser.get(path, headers={"HX-Request": "true"})
    with statements() as seen:
        response = browser.get(path, headers={"HX-Request": "true"})
    if response.status_code != 200:
        run.problem(f"{path} answered {response.status_code} in-process")
    run.note(f"the htmx page ran {len(seen)} SQL statements (pinned at {PAGE_STATEMENTS} or fewer)")
    if len(seen) > PAGE_STATEMENTS:
        run.problem(f"the htmx timeline page ran {len(seen)} SQL statements, more than {PAGE_STATEMENTS}")
