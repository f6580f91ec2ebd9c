"""Bench data for the service desk: queues of bench agents and cases of bench customers.

One part, ``cases``, after ``customers`` and ``staff``: one case per bench customer (the default scale 1000
gives 100,000; ``RELAIS_BENCH_CASES`` overrides), generated server-side with one ``INSERT ... SELECT``
over ``generate_series`` (arithmetic on the row index: the same scale gives the same rows). Five queues
``bench-q-0`` .. ``bench-q-4`` hold every bench agent. Cases are spread over the last 90 days; a tenth of
them are new and unassigned, a quarter open, a twentieth waiting, the rest resolved (35 %) or closed. Due
dates are creation + 4 h (first response) and + 2 days (resolution) in wall-clock time, not business
time: the generator does not compute SLAs, it only gives the queries and the breach job realistic rows.
Subjects start with ``bench-case`` (how ``clear`` finds them). Breach flags are left false, so the open
cases whose due dates have passed form a backlog for the breach job.
"""

from __future__ import annotations

import os
import time

from psycopg import Cursor

from bench.generate import DatasetPart, dataset_part, indexes_dropped
from bench.generate_customers import _bulk_session, bench_ids_sql, customers_for_scale

QUEUES = 5
SUBJECT_PREFIX = "bench-case"


def cases_for_scale(scale: int) -> int:
    override = os.environ.get("RELAIS_BENCH_CASES")
    return int(override) if override else customers_for_scale(scale)


def bench_queue_ids(cursor: Cursor) -> list[int]:
    """The bench queues' ids (created on first use), with every bench agent as an available member."""
    ids = []
    for n in range(QUEUES):
        cursor.execute(
            "INSERT INTO channels_queue (name, slug, assignment_rule, is_default, is_active) "
            "VALUES (%s, %s, %s, false, true) ON CONFLICT (slug) DO UPDATE SET is_active = true RETURNING id",
            [f"Bench queue {n}", f"bench-q-{n}", "round_robin" if n % 2 == 0 else "manual"],
        )
        ids.append(cursor.fetchone()[0])
    cursor.execute(
        """
        INSERT INTO channels_queuemember (queue_id, user_id, is_available, last_assigned_at)
        SELECT q.id, u.id, true, NULL FROM channels_queue q
        CROSS JOIN crm_user u JOIN crm_user_groups ug ON ug.user_id = u.id JOIN auth_group g ON g.id = ug.group_id
        WHERE q.slug LIKE 'bench-q-%%' AND u.username LIKE 'bench-%%' AND g.name = 'Agent'
        ON CONFLICT DO NOTHING
        """
    )
    return ids


@dataset_part
class CasesPart(DatasetPart):
    """Cases of the bench customers in the bench queues, assigned to bench agents."""

    name = "cases"
    version = 1
    depends_on = ("staff", "customers")

    def rows_for_scale(self, scale: int) -> int:
        return cases_for_scale(scale)

    def count(self, cursor: Cursor) -> int:
        cursor.execute("SELECT count(*) FROM channels_case WHERE subject LIKE %s", [SUBJECT_PREFIX + "%"])
        return cursor.fetchone()[0]

    def clear(self, cursor: Cursor) -> None:
        _bulk_session(cursor)
        cursor.execute("DELETE FROM channels_case WHERE subject LIKE %s", [SUBJECT_PREFIX + "%"])
        cursor.execute("DELETE FROM channels_queuemember WHERE queue_id IN "
                       "(SELECT id FROM channels_queue WHERE slug LIKE 'bench-q-%%')")  # fmt: skip

    def load(self, cursor: Cursor, *, rows: int, seed: int) -> None:
        _bulk_session(cursor)
        queues = bench_queue_ids(cursor)
        cursor.execute(f"SELECT min(id), count(*) FROM ({bench_ids_sql(('bench',))}) b")  # noqa: S608
        first_customer, customers = cursor.fetchone()
        if not customers:
            raise RuntimeError("cases need the bench customers (part 'customers')")
        cursor.execute(
            "SELECT array_agg(u.id ORDER BY u.id) FROM crm_user u JOIN crm_user_groups ug ON ug.user_id = u.id "
            "JOIN auth_group g ON g.id = ug.group_id WHERE u.username LIKE 'bench-%%' AND g.name = 'Agent'"
        )
        agents = cursor.fetchone()[0] or []
        if not agents:
            raise RuntimeError("cases need bench agents (part 'staff')")
        bucket = "(i * 7 % 100)"
        status = (f"CASE WHEN {bucket} < 10 THEN 'new' WHEN {bucket} < 35 THEN 'open' WHEN {bucket} < 40 "
                  f"THEN 'waiting' WHEN {bucket} < 75 THEN 'resolved' ELSE 'closed' END")  # fmt: skip
        created = f"now() - make_interval(mins => (i * 7919) % {90 * 24 * 60})"
        assignee = f"CASE WHEN {bucket} < 10 THEN NULL ELSE (ARRAY{agents}::bigint[])[1 + i % {len(agents)}] END"
        queue = f"(ARRAY{queues}::bigint[])[1 + i % {len(queues)}]"
        with indexes_dropped(cursor, "channels_case"):
            started = time.perf_counter()
            cursor.execute(
                f"""
                INSERT INTO channels_case (customer_id, subject, description, category, priority, status, channel,
                    queue_id, assignee_id, first_response_due_at, resolution_due_at, first_responded_at,
                    resolved_at, closed_at, first_response_breached, resolution_breached, reopened_count,
                    created_at, updated_at)
                SELECT {first_customer} + i % {customers}, '{SUBJECT_PREFIX} ' || i, '',
                       (ARRAY['request','complaint','information','claim'])[1 + i % 4],
                       (ARRAY['low','normal','normal','high','urgent'])[1 + i % 5],
                       {status}, (ARRAY['email','phone','chat','web'])[1 + i % 4],
                       {queue}, {assignee}, c + interval '4 hours', c + interval '2 days',
                       CASE WHEN {bucket} >= 35 THEN c + interval '2 hours' END,
                       CASE WHEN {bucket} >= 40 THEN c + interval '1 day' END,
                       CASE WHEN {bucket} >= 75 THEN c + interval '3 days' END,
                       false, false, 0, c, c
                FROM (SELECT i, {created} AS c FROM generate_series(0, {rows - 1}) i) g
                """  # noqa: S608 - integers only
            )
            print(f"    channels_case: {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
