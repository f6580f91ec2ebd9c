"""Web events: ingest through the HTTP API, and the session summary job.

They run on the ``web_events`` part of ``bench/generate_channels_web.py`` (20 events per bench customer:
2,000,000 at the default scale, 20,000,000 at ``--scale 10000``).
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta

from bench import (
    Run,
    benchmark,
    generate_channels_web,  # noqa: F401 (registers the web_events dataset part)
)

BATCH = 500
CLIENTS = 4  # concurrent keep-alive connections (the server has 2 workers on 2 cores)
SECONDS = float(os.environ.get("RELAIS_BENCH_WEB_SECONDS", "20"))
SUMMARISE_SESSIONS = int(os.environ.get("RELAIS_BENCH_WEB_SESSIONS", "20000"))


def _cpu_seconds(markers: list[str]) -> float:
    """User + system CPU seconds used so far by the processes whose command line holds one of ``markers``
    (the server's workers, the database's backends): what the ingest cost, whatever else the machine runs."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
            if not any(marker in command for marker in markers):
                continue
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _batches(count: int) -> list[str]:
    """``count`` request bodies of 500 fresh events each (built before timing: the client is not measured)."""
    from bench.generate_channels_web import SITE_KEY

    now = datetime.now(UTC)
    kinds = ["page_view", "page_view", "product_view", "cart_add", "page_view"]
    bodies = []
    for b in range(count):
        events = []
        for i in range(BATCH):
            n = b * BATCH + i
            events.append({
                "type": kinds[n % 5], "visitor_id": f"bi-v{n // 40}", "session_id": f"bi-s{n // 8}",
                "occurred_at": (now - timedelta(seconds=n % 600)).isoformat(),
                "url": f"https://shop.example.com/page/{n % 500}", "title": "Bench page",
                "product_sku": f"BENCH-P{n % 2000:05d}" if n % 5 in (2, 3) else "",
                "properties": {"ab": "b"} if n % 10 == 0 else {},
            })  # fmt: skip
        bodies.append(json.dumps({"site_key": SITE_KEY, "events": events}))
    return bodies


@benchmark("channels_web_ingest", dataset=("staff", "customers", "web_events"))
def channels_web_ingest(run: Run) -> None:
    """Web event ingest through the production server: 4 keep-alive connections post batches of 500 events
    (JSON, site key in the body, as track.js sends them) for 20 s to ``/api/v1/channels/events/``; p50/p95
    per request, and events stored per second (target >= 10,000/s), counted in the database afterwards."""
    from django.db import connection

    from bench.bench_foundation import KeepAliveClient, production_server

    os.environ["WEB_EVENTS_RATE"] = "1000000/min"  # the bench measures the server, not the rate limit
    bodies = _batches(200)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0), (SELECT count(*) FROM channels_webevent) FROM channels_webevent")
        first_id, table_rows = cursor.fetchone()
    sent = [0] * CLIENTS
    errors: list[str] = []

    with production_server(workers=2) as base_url:

        def client(slot: int) -> None:
            http = KeepAliveClient(base_url)
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            deadline = time.perf_counter() + SECONDS
            n = slot
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status, _headers, body = http.request("POST", "/api/v1/channels/events/", body=bodies[n % len(bodies)],
                                                      headers=headers)  # fmt: skip
                run.record("POST 500 events", time.perf_counter() - started)
                if status != 200 or json.loads(body)["accepted"] != BATCH:
                    errors.append(f"{status} {body[:200]!r}")
                    return
                sent[slot] += BATCH
                n += CLIENTS
            http.close()

        # Warm up both workers (imports, connection pool) before timing.
        warm = KeepAliveClient(base_url)
        for _ in range(4):
            warm.request(
                "POST", "/api/v1/channels/events/", body=bodies[0], headers={"Content-Type": "application/json"}
            )
        warm.close()
        port = base_url.rsplit(":", 1)[1]
        database = connection.settings_dict["NAME"]
        markers = [f"127.0.0.1:{port}", f"postgres: postgres {database} "]
        cpu_before = _cpu_seconds(markers)
        threads = [threading.Thread(target=client, args=(slot,)) for slot in range(CLIENTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(markers) - cpu_before

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM channels_webevent WHERE id > %s AND session_id LIKE 'bi-%%'", [first_id])
        stored = cursor.fetchone()[0]
        cursor.execute("DELETE FROM channels_webevent WHERE id > %s AND session_id LIKE 'bi-%%'", [first_id])
    rate = sum(sent) / elapsed
    run.note(f"{sum(sent):,} events in {elapsed:.1f} s through {CLIENTS} connections: {rate:,.0f} events/s "
             f"(target >= 10,000/s); {stored:,} rows found in the table (warm-up included), then deleted; "
             f"table held {table_rows:,} events")  # fmt: skip
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[0]
    run.note(f"server and database CPU: {cpu:.1f} s for {sum(sent):,} events = {sum(sent) / max(cpu, 1e-9):,.0f} "
             f"events per CPU-second (load average {load} on {os.cpu_count()} cores during the run)")  # fmt: skip
    if errors:
        run.problem(f"{len(errors)} requests failed, first: {errors[0]}")
    if rate < 10_000:
        run.problem(f"ingest rate {rate:,.0f} events/s is under the 10,000/s target")


@benchmark("channels_web_summarise", dataset=("staff", "customers", "web_events"))
def channels_web_summarise(run: Run) -> None:
    """The session summary job (``web_sessions_summarise``) over bench sessions of known customers: SQL
    aggregation per session over the ``web_event_session`` index, then one multi-row INSERT of the
    timeline entries; a second pass over the same sessions writes nothing (idempotent). Measured in slices
    of 2,000 sessions, then as the beat job's first run over every bench event; throughput in sessions and
    events per second."""
    from django.db import connection

    from channels.services.web import web_sessions_summarise

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT session_id FROM channels_webevent "
            "WHERE session_id LIKE 'bs-%%' AND customer_id IS NOT NULL LIMIT %s",
            [SUMMARISE_SESSIONS],
        )
        sessions = [row[0] for row in cursor.fetchall()]
    slices = [sessions[i : i + 2000] for i in range(0, len(sessions), 2000)]
    for label in ("summarise 2,000 sessions (create)", "summarise 2,000 sessions (re-run, unchanged)"):
        total_started = time.perf_counter()
        created = updated = 0
        for chunk in slices:
            with run.timer(label):
                result = web_sessions_summarise(session_ids=chunk)
            created += result.created
            updated += result.updated
        elapsed = time.perf_counter() - total_started
        run.note(f"{label}: {len(sessions):,} sessions ({len(sessions) * 8:,} events) in {elapsed:.1f} s = "
                 f"{len(sessions) / elapsed:,.0f} sessions/s, {len(sessions) * 8 / elapsed:,.0f} events/s "
                 f"({created:,} created, {updated:,} updated)")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM channels_interaction WHERE channel = 'web' AND kind = 'web_session' AND external_id = ANY(%s)",
            [sessions],
        )
        cursor.execute("SELECT min(id) - 1, count(*) FROM channels_webevent WHERE session_id LIKE 'bs-%%'")
        since_id, events = cursor.fetchone()

    # The beat job's first run over the whole bench table (every bench session is over an hour old).
    started = time.perf_counter()
    with run.timer("beat job, whole table"):
        result = web_sessions_summarise(since_id=since_id)
    elapsed = time.perf_counter() - started
    run.note(f"beat job over the whole table: {events:,} events, {result.created:,} sessions of known customers "
             f"summarised in {elapsed:.1f} s = {result.created / elapsed:,.0f} sessions/s, {events / elapsed:,.0f} "
             f"events/s")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM channels_interaction WHERE channel = 'web' AND external_id LIKE 'bs-%%'")
