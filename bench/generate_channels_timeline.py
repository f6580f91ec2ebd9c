"""Bench data for the timeline: interactions of the bench customers, one of them with 5,000.

One part, ``interactions``, after ``customers``: 10 per bench customer (the default scale 1000 gives
1,000,000; ``--scale 10000`` or 1M customers gives the 10,000,000 of the issue;
``RELAIS_BENCH_INTERACTIONS`` overrides), plus 5,000 for the second bench customer (the "heavy"
timeline the benchmark reads). Rows are generated server-side by one ``INSERT ... SELECT`` over
``generate_series`` — the set-based equivalent of COPY without the round trip through Python, several
times faster at 10M rows — with deterministic arithmetic on the row index (same scale, same rows):
every channel in realistic proportions, the channel's default cost, an agent on a third of them, two
years of history. References start with ``bt-`` (``bth-`` for the heavy customer), which is how
``clear`` and the benchmark find them. Secondary indexes are dropped during the load and rebuilt.
"""

from __future__ import annotations

import os
import time

from psycopg import Cursor

from bench.generate import DatasetPart, dataset_part, indexes_dropped
from bench.generate_customers import _bulk_session, bench_ids_sql, customers_for_scale

INTERACTIONS_PER_CUSTOMER = 10
HEAVY_TIMELINE = 5000
SPREAD_MINUTES = 730 * 24 * 60

# (channel, kind, cost) by row index modulo 20: phone 30 %, email 25 %, web 15 %, SMS 10 %, chat 10 %,
# face to face 5 %, postal mail 5 %.
MIX = (
    [("phone", "call", "6.00")] * 6 + [("email", "email", "0.02")] * 5 + [("web", "web_session", "0.25")] * 3
    + [("sms", "sms", "0.06")] * 2 + [("chat", "chat", "2.50")] * 2 + [("face_to_face", "visit", "12.00")]
    + [("postal_mail", "letter", "1.20")]
)  # fmt: skip


def interactions_for_scale(scale: int) -> int:
    override = os.environ.get("RELAIS_BENCH_INTERACTIONS")
    base = int(override) if override else customers_for_scale(scale) * INTERACTIONS_PER_CUSTOMER
    return base + HEAVY_TIMELINE


def heavy_customer_id(cursor: Cursor) -> int | None:
    """The bench customer whose timeline holds 5,000 interactions (None before the load)."""
    cursor.execute("SELECT customer_id FROM channels_interaction WHERE channel = 'phone' AND external_id = 'bth-0'")
    row = cursor.fetchone()
    return row[0] if row else None


def _case(column: int) -> str:
    whens = " ".join(f"WHEN {index} THEN '{values[column]}'" for index, values in enumerate(MIX))
    return f"CASE i % {len(MIX)} {whens} END"


@dataset_part
class InteractionsPart(DatasetPart):
    """Timeline entries of the bench customers (``bt-``) and of the heavy timeline (``bth-``)."""

    name = "interactions"
    version = 1
    depends_on = ("customers",)

    def rows_for_scale(self, scale: int) -> int:
        return interactions_for_scale(scale)

    def count(self, cursor: Cursor) -> int:
        cursor.execute("SELECT count(*) FROM channels_interaction WHERE external_id LIKE 'bt%%'")
        return cursor.fetchone()[0]

    def clear(self, cursor: Cursor) -> None:
        _bulk_session(cursor)
        cursor.execute("DELETE FROM channels_interaction WHERE external_id LIKE 'bt%%'")

    def load(self, cursor: Cursor, *, rows: int, seed: int) -> None:
        _bulk_session(cursor)
        cursor.execute(f"SELECT min(id), count(*) FROM ({bench_ids_sql(('bench',))}) b")  # noqa: S608
        first_customer, customers = cursor.fetchone()
        if not customers or customers < 2:
            raise RuntimeError("interactions need the bench customers (part 'customers')")
        cursor.execute("SELECT min(id), count(*) FROM crm_user WHERE username LIKE 'bench-%%'")
        first_agent, agents = cursor.fetchone()
        heavy = first_customer + 1
        spread = rows - HEAVY_TIMELINE
        channel, kind, cost = _case(0), _case(1), _case(2)
        agent = f"CASE WHEN i % 3 = 0 THEN {first_agent} + (i / 3) % {agents} END" if agents else "NULL"
        with indexes_dropped(cursor, "channels_interaction"):
            started = time.perf_counter()
            cursor.execute(
                f"""
                INSERT INTO channels_interaction (customer_id, channel, direction, kind, occurred_at, agent_id,
                    subject, summary, body, outcome, duration_seconds, cost, currency, external_id, metadata,
                    created_at)
                SELECT CASE WHEN i < {spread} THEN {first_customer} + i % {customers} ELSE {heavy} END,
                       {channel}, CASE WHEN i % 7 < 2 THEN 'outbound' ELSE 'inbound' END, {kind},
                       now() - make_interval(mins => ((i * 7919 + {seed}) % {SPREAD_MINUTES} + 1)::int),
                       {agent},
                       'Contact ' || i,
                       'Le client a contacté le service au sujet de la référence ' || (i % 997) || '.',
                       CASE WHEN i % 4 = 0 THEN '<p>Échange n° ' || i || ' consigné par le service client.</p>'
                            ELSE '' END,
                       CASE WHEN i % 20 < 6 THEN (ARRAY['résolu', 'rappel prévu', 'messagerie'])[i % 3 + 1]
                            ELSE '' END,
                       CASE WHEN i % 20 < 6 OR i % 20 = 18 THEN 30 + (i * 13) % 1200 END,
                       ({cost})::numeric, 'EUR',
                       CASE WHEN i < {spread} THEN 'bt-' || i ELSE 'bth-' || (i - {spread}) END,
                       '{{}}'::jsonb, now()
                FROM generate_series(0::bigint, {rows - 1}) i
                """  # noqa: S608 - integers and constants only
            )
            print(f"    channels_interaction: {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        # The heavy customer's first row must be a phone call: heavy_customer_id() finds it by (channel, ref).
        cursor.execute("UPDATE channels_interaction SET channel = 'phone', kind = 'call' WHERE external_id = 'bth-0'")
