"""The one path of a customer import, whatever its size: COPY into a staging table, then set-based SQL.

Rows are validated and normalised in Python while streaming (``validation.customer_row_parse``), and
every chunk of rows is decided by the identity rule against the database as it was before the file
(``identity_resolve_many``: a few statements per chunk), then copied into a temporary table. The rows
of the file are then resolved against each other by the same rule (``identity_within_batch``, on the
row pairs that share a key, found in SQL), and customers, stage entries, contact points, addresses,
external ids, consents and duplicate pairs are written with INSERT ... SELECT / UPDATE ... FROM in one
transaction: the rows all land, or none. A dry run is this very transaction rolled back, so it
predicts the import exactly.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations

import pgtrigger
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import ImportJob, ImportRowError
from customers.models.customer import HISTORY_WRITTEN_SETTING
from customers.normalise import afnor_locality_line, fold
from customers.services.identity import (
    Evidence,
    Outcome,
    identity_resolve_many,
    identity_within_batch,
    reason_label,
)
from customers.services.identity.batch import DUPLICATE, MAX_GROUP, SAME_CUSTOMER, WRITE
from customers.services.identity.rule import Decision
from customers.services.imports.bulk_sql import WRITES
from customers.services.imports.validation import customer_row_parse

# Rows decided by the identity rule in one look-up: each look-up hash-joins the staged rows with the
# contact points, birth dates and name/postcode keys of the whole database (about 1 s whatever the
# chunk's size at 1M customers: 1.1 s for 10,000 rows, 3.7 s for 50,000), so chunks are large;
# progress is still committed every PROGRESS_ROWS rows.
CHUNK_ROWS = 100_000
PROGRESS_ROWS = 10_000
STAGING_COLUMNS = [
    "row_number", "external_id", "title", "given_name", "family_name", "company_name", "birth_date", "email",
    "email_raw", "phone", "phone_raw", "phone_kind", "line1", "line2", "line3", "line4", "line5", "line6",
    "postcode", "city", "country", "has_address", "language", "stage", "stage_given", "tags", "notes", "consents",
    "search_name", "street", "outcome", "customer_id", "review_ids", "review_reasons",
]  # fmt: skip
STAGING_DDL = """
CREATE TEMP TABLE import_staging (
    row_number integer PRIMARY KEY, external_id text, title text, given_name text, family_name text,
    company_name text, birth_date date, email text, email_raw text, phone text, phone_raw text, phone_kind text,
    line1 text, line2 text, line3 text, line4 text, line5 text, line6 text, postcode text, city text,
    country text, has_address boolean, language text, stage text, stage_given boolean, tags text, notes text,
    consents text, search_name text, street text, outcome text NOT NULL, customer_id bigint, review_ids bigint[],
    review_reasons text[],
    is_new boolean NOT NULL DEFAULT false, changed boolean NOT NULL DEFAULT false,
    has_primary_email boolean NOT NULL DEFAULT false, has_primary_phone boolean NOT NULL DEFAULT false,
    has_primary_address boolean NOT NULL DEFAULT false, has_same_address boolean NOT NULL DEFAULT false
);
CREATE TEMP TABLE import_review (row_a integer, row_b integer, reasons text[])
"""
TITLES = {"mr": "M.", "ms": "Mme", "dr": "Dr"}
Level = ImportRowError.Level

Report = Callable[..., None]  # report(row, field, value, reason, level=...)
Progress = Callable[[int], None]


@dataclass
class ImportCounts:
    """What an import did (or, in a dry run, would do), row by row and in total."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: int = 0
    duplicates: int = 0
    outcomes: dict[int, dict] = field(default_factory=dict)  # row number -> {action, customer_id, account_number}


class _DryRun(Exception):
    """Raised inside the import's transaction to roll a dry run back after every write was made."""


def _recipient(row: dict) -> str:
    if row["company_name"] and not (row["given_name"] or row["family_name"]):
        return row["company_name"].upper()[:38]
    parts = [TITLES.get(row["title"], ""), row["given_name"], row["family_name"].upper()]
    return " ".join(part for part in parts if part)[:38]


@functools.lru_cache(maxsize=262_144)  # names and streets repeat: a file has far fewer distinct ones than rows
def _folded(text: str) -> str:
    return " ".join(fold(text).split())


def row_evidence(row: dict, *, source: str) -> Evidence:
    """The identity evidence of one parsed import row (the same shape the API builds)."""
    return Evidence(
        email=row["email"],
        phone=row["phone"],
        phone_is_mobile=row["phone_kind"] == "mobile",
        external_id=(source, row["external_id"]) if row["external_id"] else None,
        given_name=_folded(row["given_name"]),
        family_name=_folded(row["family_name"]),
        company_name=_folded(row["company_name"]),
        birth_date=row["birth_date"],
        postcode=row["postcode"] if row["country"] == "FR" or row["has_address"] else "",
        street=_folded(row["line4"]) if row["has_address"] else "",
    )


def _staging_tuple(number: int, row: dict, values: dict, evidence: Evidence, decision: Decision) -> tuple:
    line6 = ""
    if row["has_address"]:
        line6 = afnor_locality_line(postcode=row["postcode"], city=row["city"], country=row["country"])
    review = decision.review_ids
    first_reasons = decision.reasons
    if review:
        first_reasons = next((a.reasons for a in decision.assessments if a.known.id in review), first_reasons)
    consents = row["consents"]
    return (
        number, row["external_id"], row["title"], row["given_name"], row["family_name"], row["company_name"],
        row["birth_date"], row["email"], (values.get("email") or "")[:254], row["phone"],
        (values.get("phone") or "")[:254], row["phone_kind"], _recipient(row) if row["has_address"] else "",
        row["line2"], row["line3"], row["line4"], row["line5"], line6, row["postcode"], row["city"][:100],
        row["country"], row["has_address"], row["language"], row["stage"], row["stage_given"], ",".join(row["tags"]),
        row["notes"], ";".join(map(":".join, consents)) if consents else "",
        " ".join(filter(None, (evidence.given_name, evidence.family_name, evidence.company_name))),
        evidence.street, decision.outcome, decision.customer_id if decision.outcome == Outcome.MATCH else None,
        review or None, first_reasons or None,
    )  # fmt: skip


def _copy_chunk(records: list[tuple]) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY import_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)


def _decide_and_copy(chunk: list[tuple[int, dict, dict]], *, source: str) -> None:
    evidence = [row_evidence(row, source=source) for _number, row, _values in chunk]
    decisions = identity_resolve_many(evidence)
    _copy_chunk(
        [_staging_tuple(number, row, values, e, d)
         for (number, row, values), e, d in zip(chunk, evidence, decisions, strict=True)]
    )  # fmt: skip


def _stage(rows: Iterable[tuple[int, dict]], *, source: str, report: Report, progress: Progress) -> int:
    """Validate, decide and COPY the rows into ``import_staging``; return how many were read."""
    chunk: list[tuple[int, dict, dict]] = []
    read = 0
    for number, values in rows:
        read += 1
        if read % PROGRESS_ROWS == 0:
            progress(read)
        row, errors = customer_row_parse(values)
        for name, value, reason in errors.warnings:
            report(number, name, value, reason, level=Level.WARNING)
        if errors:
            for name, value, reason in errors.items:
                report(number, name, value, reason, level=Level.REJECTED)
            continue
        chunk.append((number, row, values))
        if len(chunk) >= CHUNK_ROWS:
            _decide_and_copy(chunk, source=source)
            chunk = []
    if chunk:
        _decide_and_copy(chunk, source=source)
    progress(read)
    return read


# Groups of rows sharing one key, for the pairwise comparison of the file's rows (a key shared by more
# than MAX_GROUP rows is a placeholder such as "noemail@", not a person).
SHARED_KEYS = f"""
WITH keyed AS (
    SELECT row_number, 'email' AS k, email AS v FROM import_staging WHERE email <> ''
    UNION ALL SELECT row_number, 'phone', phone FROM import_staging WHERE phone <> ''
    UNION ALL SELECT row_number, 'external_id', external_id FROM import_staging WHERE external_id <> ''
    UNION ALL SELECT row_number, 'birth_date', search_name || '|' || birth_date
        FROM import_staging WHERE search_name <> '' AND birth_date IS NOT NULL
    UNION ALL SELECT row_number, 'postcode', search_name || '|' || postcode
        FROM import_staging WHERE search_name <> '' AND postcode <> ''
    UNION ALL SELECT row_number, 'customer', customer_id::text FROM import_staging WHERE outcome = 'match'
)
SELECT k, array_agg(row_number ORDER BY row_number) FROM keyed GROUP BY k, v
HAVING count(*) BETWEEN 2 AND {MAX_GROUP}
"""  # noqa: S608 - MAX_GROUP is a constant
PAIR_ROWS = """
SELECT row_number, email, phone, phone_kind, external_id, search_name, given_name, family_name, company_name,
       birth_date, postcode, street, outcome, customer_id
FROM import_staging WHERE row_number = ANY(%s)
"""


# The column a duplicate is reported against: the identifier that made two rows one person.
KEY_COLUMNS = {"external_id": "external_id", "email": "email", "phone": "phone"}


def _within_file(cursor, *, source: str, report: Report) -> int:
    """Resolve the file's rows against each other; drop the duplicates (reported); return how many."""
    cursor.execute(SHARED_KEYS)
    pairs = set()
    for _key, numbers in cursor.fetchall():
        pairs.update(combinations(numbers, 2))
    if not pairs:
        return 0
    involved = sorted({n for pair in pairs for n in pair})
    cursor.execute(PAIR_ROWS, [involved])
    columns = [c.name for c in cursor.description]
    rows, keys, by_number = [], {}, {}
    for values in cursor.fetchall():
        r = dict(zip(columns, values, strict=True))
        evidence = Evidence(
            email=r["email"], phone=r["phone"], phone_is_mobile=r["phone_kind"] == "mobile",
            external_id=(source, r["external_id"]) if r["external_id"] else None,
            given_name=_folded(r["given_name"]), family_name=_folded(r["family_name"]),
            company_name=_folded(r["company_name"]), birth_date=r["birth_date"], postcode=r["postcode"],
            street=r["street"],
        )  # fmt: skip
        decision = Decision(outcome=r["outcome"], customer_id=r["customer_id"])
        by_number[r["row_number"]] = decision
        rows.append((r["row_number"], evidence, decision))
        keys[r["row_number"]] = {"email": r["email"], "phone": r["phone"], "external_id": r["external_id"],
                                 "family_name": r["family_name"] or r["company_name"]}  # fmt: skip
    result = identity_within_batch(rows, pairs=pairs)
    dropped = [row for row in result.rows if row.action in (DUPLICATE, SAME_CUSTOMER)]
    for row in dropped:
        if row.action == DUPLICATE:
            reason = _("The same person as row %(row)d of this file; only that row is imported.") % {"row": row.of_row}
        else:
            reason = _("The same customer as row %(row)d of this file; only that row is imported.") % {
                "row": row.of_row
            }
        column = next((KEY_COLUMNS[r] for r in row.reasons if r in KEY_COLUMNS), "family_name")
        report(row.number, column, keys[row.number].get(column, ""), reason, level=Level.DUPLICATE)
    if dropped:
        cursor.execute("DELETE FROM import_staging WHERE row_number = ANY(%s)", [[row.number for row in dropped]])
    apart = [row.number for row in result.rows if row.action == WRITE and row.decision.outcome == Outcome.NEW
             and by_number[row.number].outcome == Outcome.MATCH]  # fmt: skip
    if apart:
        cursor.execute(
            "UPDATE import_staging SET outcome = %s, customer_id = NULL, review_ids = NULL, review_reasons = NULL "
            "WHERE row_number = ANY(%s)",
            [Outcome.NEW, apart],
        )
    if result.review_pairs:
        with cursor.cursor.copy("COPY import_review (row_a, row_b, reasons) FROM STDIN") as copy:
            for a, b, reasons in result.review_pairs:
                copy.write_row((a, b, reasons))
    return len(dropped)


# The customer update trigger has pghistory's change condition, so it is ignored the pgtrigger way;
# the insert history triggers are skipped through HISTORY_WRITTEN_SETTING (a WHEN condition).
HISTORY_TRIGGERS = ["customers.Customer:update_update"]
# The GIN indexes of the customers (name trigrams, tags, attributes) take new entries into their pending
# list; with the default 4 MB list the inserting statement merges it into the index every few thousand
# rows. For the import's transaction the list may grow larger, and is merged in fewer, larger passes.
GIN_PENDING_LIST_KB = 262_144


def _ignored_triggers() -> str:
    """The value of ``pgtrigger.ignore`` that skips HISTORY_TRIGGERS for the rest of the transaction."""
    ids = set()
    for model, trigger in pgtrigger.registry.registered(*HISTORY_TRIGGERS):
        pgid = trigger.get_pgid(model)
        ids |= {pgid, f"{model._meta.db_table}:{pgid}"}
    return "{" + ",".join(sorted(ids)) + "}"


OUTCOMES = """
SELECT s.row_number, s.outcome, s.is_new, s.changed, s.customer_id, c.account_number
FROM import_staging s JOIN customers_customer c ON c.id = s.customer_id
"""


def _write(cursor, *, job: ImportJob) -> None:
    now = timezone.now()
    context = uuid.uuid4()
    metadata = {"user": job.created_by_id, "channel": "import", "import_job": job.pk}
    cursor.execute(
        "INSERT INTO pghistory_context (id, created_at, updated_at, metadata) VALUES (%s, %s, %s, %s)",
        [context, now, now, json.dumps(metadata)],
    )
    proof = _("Import #%(job)s of “%(file)s”, row %%s") % {"job": job.pk, "file": job.original_name.replace("%", "")}
    params = {"now": now, "user": job.created_by_id, "source": job.source, "context": context, "proof": proof}
    # The per-row history triggers would upsert the same context row once per row (quadratic in one
    # transaction); each statement writes its history rows itself, set-based, instead.
    cursor.execute(
        "SELECT set_config('pgtrigger.ignore', %s, true), set_config(%s, 'on', true), "
        "set_config('gin_pending_list_limit', %s, true)",
        [_ignored_triggers(), HISTORY_WRITTEN_SETTING, str(GIN_PENDING_LIST_KB)],
    )
    for statement in WRITES:
        cursor.execute(statement, params)
    cursor.execute(
        "SELECT set_config('pgtrigger.ignore', '{}', true), set_config(%s, 'off', true)", [HISTORY_WRITTEN_SETTING]
    )


def customers_import_bulk(
    *, job: ImportJob, rows: Iterable[tuple[int, dict]], report: Report, progress: Progress, dry_run: bool,
    with_outcomes: bool = False, before_commit: Callable[[ImportCounts], None] | None = None,
) -> ImportCounts:  # fmt: skip
    """Import a customer file set-based; return what it did (what it would do, in a dry run).

    Must run outside a transaction (the staging chunks commit the progress as they go); the writes
    happen in one transaction at the end. A dry run makes every write and rolls them back, so its
    counts and per-row outcomes are the import's. Problems found in that transaction are given to
    ``report`` after it (a rolled-back dry run keeps its report) — or, for a real import with
    ``before_commit``, inside it, before ``before_commit(counts)`` is called: the job's own "done"
    then commits with the rows (an exception from it rolls the import back).
    """
    held: list[tuple] = []

    def report_later(*args, **kwargs):
        held.append((args, kwargs))

    counts = ImportCounts()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_staging; DROP TABLE IF EXISTS import_review")
        cursor.execute(STAGING_DDL)
    try:
        _stage(rows, source=job.source, report=report, progress=progress)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ANALYZE import_staging")
            counts.duplicates = _within_file(cursor, source=job.source, report=report_later)
            _write(cursor, job=job)
            cursor.execute(
                "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE outcome = 'possible_duplicate'), "
                "count(*) FILTER (WHERE NOT is_new AND changed), count(*) FILTER (WHERE NOT is_new AND NOT changed) "
                "FROM import_staging"
            )
            counts.created, counts.flagged, counts.updated, counts.unchanged = cursor.fetchone()
            cursor.execute("SELECT count(DISTINCT row_a) + count(DISTINCT row_b) FROM import_review")
            in_file_flags = cursor.fetchone()[0]
            counts.flagged += in_file_flags
            if with_outcomes:
                cursor.execute(OUTCOMES)
                for number, outcome, is_new, changed, customer_id, account in cursor.fetchall():
                    action = "create" if is_new else ("update" if changed else "unchanged")
                    counts.outcomes[number] = {"action": action, "outcome": outcome, "customer_id": customer_id,
                                               "account_number": "" if (is_new and dry_run) else account}  # fmt: skip
            _report_flags(cursor, report_later)
            _report_taken_ids(cursor, report_later, source=job.source)
            if dry_run:
                raise _DryRun
            if before_commit is not None:
                for args, kwargs in held:
                    report(*args, **kwargs)
                held.clear()
                before_commit(counts)
    except _DryRun:
        pass
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS import_staging; DROP TABLE IF EXISTS import_review")
    for args, kwargs in held:
        report(*args, **kwargs)
    return counts


def _report_flags(cursor, report: Report) -> None:
    """A line of the report for each row created as a possible duplicate, naming whom it resembles."""
    cursor.execute(
        """
        SELECT s.row_number, s.email, array_agg(DISTINCT c.account_number ORDER BY c.account_number), s.review_reasons
        FROM import_staging s, unnest(s.review_ids) AS r(id) JOIN customers_customer c ON c.id = r.id
        WHERE s.outcome = 'possible_duplicate'
        GROUP BY s.row_number, s.email, s.review_reasons
        UNION ALL
        SELECT v.row_b, y.email, ARRAY[x.row_number::text], v.reasons
        FROM import_review v
        JOIN import_staging x ON x.row_number = v.row_a JOIN import_staging y ON y.row_number = v.row_b
        ORDER BY 1
        """
    )
    for number, email, whom, reasons in cursor.fetchall():
        why = ", ".join(reason_label(code) for code in reasons or [])
        if whom and whom[0].isdigit():
            text = _("Created; it looks like row %(row)s of this file (%(why)s): review the pair.")
        else:
            text = _("Created; it looks like %(row)s (%(why)s): review the pair in Duplicates.")
        report(number, "email" if email else "family_name", email or "", text % {"row": ", ".join(whom), "why": why},
               level=Level.FLAGGED)  # fmt: skip


def _report_taken_ids(cursor, report: Report, *, source: str) -> None:
    """A warning for each row whose id in the source belongs to another record (an erased customer's)."""
    cursor.execute(
        """
        SELECT s.row_number, s.external_id FROM import_staging s
        JOIN customers_customerexternalid x ON x.source = %s AND x.value = s.external_id
        WHERE s.external_id <> '' AND x.customer_id <> s.customer_id
        """,
        [source],
    )
    for number, value in cursor.fetchall():
        report(number, "external_id", value,
               _("This id already belongs to another record (merged or erased); the row is imported without it."),
               level=Level.WARNING)  # fmt: skip
