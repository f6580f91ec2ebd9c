"""Screen pop benchmark: a signed call event through the production server, answered with the customer card.

Runs on the ``customers`` and ``orders`` parts (see ``bench/customers_common.py``); the calls are
removed at the end (sessions and interactions whose call id starts with ``bench-call-``).
"""

from __future__ import annotations

import json
import os
import random
import time

from bench import Run, benchmark
from bench.bench_foundation import BENCH_ADMIN_USERNAME, KeepAliveClient, bench_admin_ensure, production_server
from bench.customers_common import DATASET, SEED, _cursor, dataset_size_note, ensure_vacuumed
from bench.generate_customers import bench_ids_sql

CALLS = 300
SECRET = "bench-cti-secret-0123456789abcdef0123456789"
EXTENSION = "bench-9900"
URL = "/api/v1/channels/calls/"
# How telephony systems and people write the same French number.
FORMATS = [
    lambda d: f"0{d[0]} {d[1:3]} {d[3:5]} {d[5:7]} {d[7:9]}",
    lambda d: f"+33{d}",
    lambda d: f"0033 {d[0]} {d[1:3]} {d[3:5]} {d[5:7]} {d[7:9]}",
    lambda d: f"+33 (0){d[0]} {d[1:3]} {d[3:5]} {d[5:7]} {d[7:9]}",
    lambda d: f"0{d[0]}.{d[1:3]}.{d[3:5]}.{d[5:7]}.{d[7:9]}",
]


def _calls_cleanup() -> None:
    with _cursor() as cursor:
        cursor.execute("DELETE FROM channels_callsession WHERE call_id LIKE 'bench-call-%%'")
        cursor.execute("DELETE FROM channels_interaction WHERE external_id LIKE 'bench-call-%%'")


def _signed(body: bytes) -> dict[str, str]:
    from channels.services.calls import call_event_signature

    stamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Relais-Timestamp": stamp,
        "X-Relais-Signature": call_event_signature(secret=SECRET, timestamp=stamp, body=body),
    }


@benchmark(
    "channels_screen_pop",
    targets={"ringing -> customer card (screen pop)": 50, "ended -> interaction": 50},
    dataset=DATASET,
)
def channels_screen_pop(run: Run) -> None:
    """`POST /api/v1/channels/calls/` through the production server (gunicorn, 2 uvicorn workers, DEBUG
    off) on one keep-alive connection, one call after another: a signed `ringing` event for a bench
    customer's phone number, written in one of five French formats in turn, answered with the customer
    card (identity resolution, open cases, last 5 contacts, last call, consents) and the screen pop
    rendered and published to the agent's SSE topic after commit; then `answered` (not timed) and
    `ended`, which records the call on the timeline. The signature is computed before the timer starts."""
    from django.contrib.auth import get_user_model

    from channels.models import AgentProfile

    ensure_vacuumed()
    bench_admin_ensure()
    agent = get_user_model().objects.get(username=BENCH_ADMIN_USERNAME)
    AgentProfile.objects.update_or_create(user=agent, defaults={"extension": EXTENSION})
    _calls_cleanup()
    rng = random.Random(SEED + 11)
    with _cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.value FROM customers_contactpoint p
            WHERE p.customer_id IN ({bench_ids_sql(("bench",))}) AND p.kind IN ('mobile', 'phone')
              AND p.value LIKE '+33%%'
            ORDER BY md5(p.id::text || %s) LIMIT %s
            """,  # noqa: S608 - constants only
            [str(rng.random()), CALLS],
        )
        numbers = [row[0] for row in cursor.fetchall()]
    if not numbers:
        run.problem("no bench customer has a French phone number")
        return
    os.environ["CTI_SHARED_SECRET"] = SECRET  # read by the server process at start-up
    matched = 0
    try:
        with production_server() as base_url:
            client = KeepAliveClient(base_url)
            for index, e164 in enumerate(numbers):
                digits = e164.removeprefix("+33")
                call_id = f"bench-call-{index}"
                event = {"event": "ringing", "call_id": call_id, "caller_number": FORMATS[index % len(FORMATS)](digits),
                         "called_line": "0800 000 000", "agent_extension": EXTENSION}  # fmt: skip
                body = json.dumps(event).encode()
                headers = _signed(body)
                with run.timer("ringing -> customer card (screen pop)"):
                    status, _headers, content = client.request("POST", URL, body=body, headers=headers)
                if status != 200:
                    run.problem(f"ringing answered {status}: {content[:200]!r}")
                    return
                answer = json.loads(content)
                matched += bool(answer["customer"] or answer.get("candidates"))
                for name in ("answered", "ended"):
                    body = json.dumps({**event, "event": name}).encode()
                    headers = _signed(body)
                    if name == "answered":
                        client.request("POST", URL, body=body, headers=headers)
                        continue
                    with run.timer("ended -> interaction"):
                        status, _headers, content = client.request("POST", URL, body=body, headers=headers)
                    if status != 200 or json.loads(content)["interaction_id"] is None:
                        run.problem(f"ended answered {status}: {content[:200]!r}")
                        return
            client.close()
        _statements_pinned(run, numbers[0])
    finally:
        os.environ.pop("CTI_SHARED_SECRET", None)
        _calls_cleanup()
    dataset_size_note(run)
    run.note(f"{len(numbers)} calls; {matched} numbers resolved to a customer or candidates (all should)")


# The call's advisory lock, the session, the agent of the extension, the number's contact points, the
# customer, the INSERT of the session, the card (one statement); then, publishing the screen pop after
# commit, the agent's user and group permissions (BEGIN and COMMIT are not counted).
RINGING_STATEMENTS = 9


def _statements_pinned(run: Run, e164: str) -> None:
    """One more ringing event in-process, its SQL statements counted (pinned at RINGING_STATEMENTS)."""
    from django.test import Client, override_settings

    from bench.customers_common import statements

    body = json.dumps({"event": "ringing", "call_id": "bench-call-count", "caller_number": e164,
                       "agent_extension": EXTENSION}).encode()  # fmt: skip
    headers = _signed(body)
    with override_settings(CTI_SHARED_SECRET=SECRET), statements() as seen:
        response = Client(SERVER_NAME="127.0.0.1").post(
            URL, data=body, content_type="application/json",
            headers={name: value for name, value in headers.items() if name.startswith("X-")},
        )  # fmt: skip
    if response.status_code != 200:
        run.problem(f"in-process ringing answered {response.status_code}")
    run.note(f"a ringing event runs {len(seen)} SQL statements (pinned at {RINGING_STATEMENTS} or fewer)")
    if len(seen) > RINGING_STATEMENTS:
        run.problem(f"a ringing event ran {len(seen)} SQL statements, more than {RINGING_STATEMENTS}")
