"""The agent's main pages: their floor one request at a time, and 50 agents working at once.

``pages_floor``: the signed-in floor (``GET /account/``, target p95 <= 12 ms: what every signed-in page
pays before its own work: server, middleware, session, user, permissions, layout), then the customer
list, 360 page, case page and console (p95 <= 100 ms, the limit under which a page feels instant),
signed in as a bench agent, one keep-alive connection, requests one after another, interleaved.
``pages_50_agents``: 50 bench agents, each on its own connection and thread, signed in through the form,
looping search -> 360 page -> timeline with a think time between pages; p50/p95 per page and pages
served per second. Both go through the production server (gunicorn, 2 uvicorn workers, DEBUG off).
"""

from __future__ import annotations

import os
import random
import threading
import time
from urllib.parse import quote

import bench.generate_channels_desk  # noqa: F401 - registers the cases part
from bench import BenchmarkSkipped, Run, benchmark
from bench.customers_common import DATASET, _cursor, dataset_size_note

FLOOR_REQUESTS = int(os.environ.get("RELAIS_BENCH_FLOOR_REQUESTS", "300"))
AGENTS = int(os.environ.get("RELAIS_BENCH_AGENTS", "50"))
THINK_SECONDS = float(os.environ.get("RELAIS_BENCH_THINK_SECONDS", "5"))
LOAD_SECONDS = float(os.environ.get("RELAIS_BENCH_LOAD_SECONDS", "90"))
# Agents sign in one after another over this many seconds, as a team starting its shift does: 50
# PBKDF2 checks at the same instant are ~12 s of CPU on two cores, not a page load to measure.
RAMP_SECONDS = float(os.environ.get("RELAIS_BENCH_RAMP_SECONDS", "10"))
FLOOR = "GET /account/ (signed-in floor)"
FLOOR_PAGES = (FLOOR, "GET /customers/ (list)", "GET /customers/<pk>/ (360)", "GET case page", "GET /channels/console/")
LOAD_PAGES = ("search", "360 page", "timeline")


def _bench_agents(count: int) -> list[str]:
    with _cursor() as cursor:
        cursor.execute(
            "SELECT u.username FROM crm_user u JOIN crm_user_groups ug ON ug.user_id = u.id "
            "JOIN auth_group g ON g.id = ug.group_id "
            "WHERE u.username LIKE 'bench-%%' AND g.name = 'Agent' AND u.is_active ORDER BY u.id LIMIT %s",
            [count],
        )
        names = [row[0] for row in cursor.fetchall()]
    if len(names) < count:
        raise BenchmarkSkipped(f"{len(names)} bench agents, {count} needed: load the staff part")
    return names


def _sample_customers(count: int) -> list[tuple[int, str]]:
    with _cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.family_name FROM customers_customer c WHERE c.merged_into_id IS NULL "
            "AND c.family_name <> '' ORDER BY c.id LIMIT %s",
            [count],
        )
        rows = cursor.fetchall()
    if not rows:
        raise BenchmarkSkipped("no customers: load the customers part")
    return rows


def _a_case() -> int:
    with _cursor() as cursor:
        cursor.execute("SELECT id FROM channels_case WHERE subject LIKE 'bench-case%%' ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    if row is None:
        raise BenchmarkSkipped("no bench case: load the cases part")
    return row[0]


@benchmark(
    "pages_floor",
    targets={**dict.fromkeys(FLOOR_PAGES, 100), FLOOR: 12},
    dataset=(*DATASET, "cases"),
    how_to_run="`python -m bench --only pages_floor`",
)
def pages_floor(run: Run) -> None:
    """The agent's main pages one request at a time: the customer list, the 360 page of a customer with
    orders, a case page and the console, signed in as a bench Agent through the login form, on one
    keep-alive connection through the production server (gunicorn, 2 uvicorn workers, DEBUG off),
    interleaved so that any drift of the machine weighs on every page alike."""
    from bench.bench_foundation import KeepAliveClient, production_server
    from bench.generate import StaffPart

    agent = _bench_agents(1)[0]
    customer_pk, _name = _sample_customers(1)[0]
    urls = ["/account/", "/customers/", f"/customers/{customer_pk}/", f"/channels/desk/cases/{_a_case()}/",
            "/channels/console/"]  # fmt: skip
    paths = dict(zip(FLOOR_PAGES, urls, strict=True))
    sizes = {}
    with production_server(workers=2) as base_url:
        client = KeepAliveClient(base_url)
        client.login(agent, StaffPart.PASSWORD)
        for _ in range(20):
            for operation, path in paths.items():
                status, _headers, body = client.request("GET", path)
                if status != 200:
                    raise RuntimeError(f"{operation} ({path}) answered {status} during warm-up")
                sizes[operation] = len(body)
        for _ in range(FLOOR_REQUESTS):
            for operation, path in paths.items():
                started = time.perf_counter()
                status, _headers, _body = client.request("GET", path)
                run.record(operation, time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{operation} answered {status}")
        client.close()
    run.note(
        f"{FLOOR_REQUESTS} measured requests per page after 20 warm-up rounds, as `{agent}` (Agent); gzip "
        "accepted; sizes: " + ", ".join(f"{op} {size:,} B" for op, size in sizes.items())
    )
    _query_counts_note(run, agent, paths)
    dataset_size_note(run)


def _query_counts_note(run: Run, username: str, paths: dict[str, str]) -> None:
    """Render each page in-process once with Django's test client and count its SQL statements."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_HOST="127.0.0.1")  # production settings: loopback hosts only
    client.force_login(get_user_model().objects.get(username=username))
    counts = []
    for operation, path in paths.items():
        client.get(path)  # warm caches (navigation, permissions) as the server's are
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{operation} answered {response.status_code} in-process")
        counts.append(f"{operation} {len(queries)}")
    run.note("SQL statements per page (in-process, after one warm-up request): " + ", ".join(counts))


@benchmark(
    "pages_50_agents",
    targets=dict.fromkeys(LOAD_PAGES, 500),
    dataset=(*DATASET, "cases"),
    in_default_run=False,
    how_to_run="`python -m bench --only pages_50_agents` (RELAIS_BENCH_AGENTS, RELAIS_BENCH_THINK_SECONDS, "
    "RELAIS_BENCH_LOAD_SECONDS, RELAIS_BENCH_RAMP_SECONDS change the load)",
)
def pages_50_agents(run: Run) -> None:
    """50 bench Agents at once, each signed in through the form on its own keep-alive connection (one
    thread each, like one browser tab each; the sign-ins spread over the first 10 s), through the
    production server (gunicorn, 2 uvicorn workers,
    DEBUG off), each looping for the run's length: search a customer's family name in the header search,
    open their 360 page, open their timeline, with a think time (uniform 0.5x-1.5x of 5 s) after each
    page. Figures per page, and pages served per second over the whole run."""
    from bench.bench_foundation import KeepAliveClient, production_server
    from bench.generate import StaffPart

    agents = _bench_agents(AGENTS)
    customers = _sample_customers(2000)
    errors: list[str] = []
    served = [0]
    lock = threading.Lock()

    def agent_loop(username: str, index: int, base_url: str, stop_at: float) -> None:
        rng = random.Random(index)
        client = KeepAliveClient(base_url)
        try:
            time.sleep(RAMP_SECONDS * index / max(AGENTS, 1))
            client.login(username, StaffPart.PASSWORD)
            time.sleep(rng.uniform(0, THINK_SECONDS))  # agents do not all start on the same second
            while time.monotonic() < stop_at:
                pk, name = rng.choice(customers)
                for operation, path in (("search", f"/customers/search/?q={quote(name)}"),
                                        ("360 page", f"/customers/{pk}/"),
                                        ("timeline", f"/channels/customers/{pk}/timeline/")):  # fmt: skip
                    started = time.perf_counter()
                    status, _headers, _body = client.request("GET", path)
                    elapsed = time.perf_counter() - started
                    with lock:
                        run.record(operation, elapsed)
                        served[0] += 1
                        if status != 200:
                            errors.append(f"{username} {path}: {status}")
                    time.sleep(THINK_SECONDS * rng.uniform(0.5, 1.5))
        except Exception as error:  # noqa: BLE001 - reported below, with the agent
            with lock:
                errors.append(f"{username}: {error!r}")
        finally:
            client.close()

    with production_server(workers=2) as base_url:
        stop_at = time.monotonic() + LOAD_SECONDS
        started = time.monotonic()
        threads = [threading.Thread(target=agent_loop, args=(name, i, base_url, stop_at), daemon=True)
                   for i, name in enumerate(agents)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(LOAD_SECONDS + 120)
        seconds = time.monotonic() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[:3]}")
    run.note(
        f"{len(agents)} agents for {LOAD_SECONDS:.0f} s (think time {THINK_SECONDS:g} s): {served[0]:,} pages in "
        f"{seconds:.0f} s = {served[0] / seconds:.1f} pages/s; 0 errors (no 500, no 503); logins (PBKDF2) are "
        f"not timed and spread over the first {RAMP_SECONDS:g} s"
    )
    dataset_size_note(run)
