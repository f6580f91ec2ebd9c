"""Service desk: the case list, the supervisor's aggregates, "my work", the SLA breach job, business_add.

They run on the ``cases`` part of ``bench/generate_channels_desk.py`` (one case per bench customer:
100,000 at the default scale; ``RELAIS_BENCH_CASES`` overrides).
"""

from __future__ import annotations

import datetime
import time

from bench import (
    BenchmarkSkipped,
    Run,
    benchmark,
    generate_channels_desk,  # noqa: F401 (registers the cases dataset part)
)

REPEATS = 100


def _context():
    from django.contrib.auth import get_user_model
    from django.db import connection

    from channels.models import Queue

    with connection.cursor() as cursor:
        # After a COPY-style load: hint bits and statistics, so the first timings measure queries, not the load.
        cursor.execute("VACUUM (ANALYZE) channels_case")
        cursor.execute(
            "SELECT assignee_id, count(*) FROM channels_case WHERE subject LIKE 'bench-case%%' "
            "AND status IN ('new', 'open', 'waiting') AND assignee_id IS NOT NULL "
            "GROUP BY assignee_id ORDER BY count(*) DESC LIMIT 1"
        )
        row = cursor.fetchone()
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE status IN ('new', 'open', 'waiting')) "
                       "FROM channels_case")  # fmt: skip
        total, open_total = cursor.fetchone()
    if row is None:
        raise BenchmarkSkipped("no bench case: load the cases part")
    agent = get_user_model().objects.get(pk=row[0])
    queues = list(Queue.objects.filter(slug__startswith="bench-q-"))
    return agent, row[1], queues, total, open_total


@benchmark(
    "desk_cases",
    targets={
        "case list, first page (open)": 50,
        "case list, page 5 by cursor": 50,
        "case list, queue + open": 50,
        "case list, assignee = me": 50,
        "case list, breached": 50,
        "supervisor: per-queue aggregates": 300,
        "supervisor: per-agent aggregates": 300,
        "my work (agent with most open cases)": 50,
        "business_add (one due date)": ("p50", 0.2),
    },
    dataset=("staff", "customers", "cases"),
)
def desk_cases(run: Run) -> None:
    """In-process, as the views call them: one page (50 rows, keyset) of the case list with each filter the
    list offers, the supervisor view's two aggregate queries over every open case, the "my work" list of
    the agent holding the most open cases, and the SLA due-date computation alone. Each 100 times after a
    warm-up, one after another."""
    from channels.selectors_desk import (
        CaseFilters,
        case_list_queryset,
        case_page,
        my_work,
        supervisor_agents,
        supervisor_queues,
    )
    from channels.services.sla import business_add

    agent, agent_open, queues, total, open_total = _context()

    def page(filters: CaseFilters, pages: int = 1) -> None:
        cursor = None
        for _ in range(pages):
            result = case_page(queryset=case_list_queryset(filters=filters, user=agent), cursor=cursor)
            cursor = result.next_cursor

    cases = {
        "case list, first page (open)": lambda: page(CaseFilters(status="open")),
        "case list, page 5 by cursor": None,
        "case list, queue + open": lambda: page(CaseFilters(status="open", queue=queues[0].pk)),
        "case list, assignee = me": lambda: page(CaseFilters(assignee="me")),
        "case list, breached": lambda: page(CaseFilters(breached="any")),
        "supervisor: per-queue aggregates": supervisor_queues,
        "supervisor: per-agent aggregates": supervisor_agents,
        "my work (agent with most open cases)": lambda: my_work(user=agent),
    }
    for operation, call in cases.items():
        if call is None:  # five pages walked by cursor; the fifth is timed
            for _ in range(REPEATS // 5):
                cursor = None
                for n in range(5):
                    started = time.perf_counter()
                    result = case_page(queryset=case_list_queryset(filters=CaseFilters(status="open"), user=agent),
                                       cursor=cursor)  # fmt: skip
                    if n == 4:
                        run.record(operation, time.perf_counter() - started)
                    cursor = result.next_cursor
            continue
        for _ in range(5):
            call()
        for _ in range(REPEATS):
            with run.timer(operation):
                call()
    start = datetime.datetime(2026, 4, 30, 17, 30, tzinfo=datetime.UTC)
    for n in range(1000):
        with run.timer("business_add (one due date)"):
            business_add(start + datetime.timedelta(minutes=n * 37), 1080)
    run.note(f"dataset: {total:,} cases, {open_total:,} open, in {len(queues)} bench queues; the agent timed in "
             f"'my work' holds {agent_open:,} open cases (the list caps each kind at 200)")  # fmt: skip


@benchmark(
    "desk_sla_breaches",
    targets={"flag breaches: 100 new (typical 5-minute run)": 500},
    dataset=("staff", "customers", "cases"),
)
def desk_sla_breaches(run: Run) -> None:
    """The beat job ``channels.sla_breaches_flag_task`` (two set-based UPDATEs) on the generated cases. A
    typical run (every 5 minutes) finds a handful of newly overdue cases: 20 times, the flags of 100
    overdue open cases are cleared, then the job runs. Then once the whole backlog (every overdue open
    case, as after a first deployment) is cleared and flagged again. Each case's history row (pghistory
    trigger) is written in the same statement; toasts go to Redis (nobody listens)."""
    from django.db import connection

    from channels.services.sla import sla_breaches_flag

    def reset(limit: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE channels_case SET first_response_breached = false, resolution_breached = false "
                "WHERE id IN (SELECT id FROM channels_case WHERE subject LIKE 'bench-case%%' "
                "AND status IN ('new', 'open', 'waiting') AND resolution_due_at < now() "
                f"AND (first_response_breached OR resolution_breached) ORDER BY id {limit})"
            )

    sla_breaches_flag()  # start from a flagged backlog
    for _ in range(20):
        reset("LIMIT 100")
        with run.timer("flag breaches: 100 new (typical 5-minute run)"):
            sla_breaches_flag()
    flagged = 0
    for _ in range(1):  # one pass: at 100,000 cases it takes about a minute on a busy 2-core machine
        reset("")
        with run.timer("flag breaches: whole backlog"):
            report = sla_breaches_flag()
        flagged = len(report.first_response) + len(report.resolution)
    run.note(f"the whole backlog is {flagged:,} breaches (first response + resolution)")
