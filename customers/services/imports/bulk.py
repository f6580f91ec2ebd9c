"""The bulk path for large customer files: COPY into a staging table, then set-based SQL.

Rows are validated and normalised in Python while streaming (``validation.customer_row_parse``) and
copied into a temporary table in chunks (progress is committed between chunks). Duplicates inside the
file, matches with existing customers (the source's external id, then the normalised email) and
ambiguous matches are then found in SQL, and customers, stage entries, contact points, addresses and
external ids are written with INSERT ... SELECT / UPDATE ... FROM in one transaction: the valid rows
all land, or none. History rows (pghistory, context "import") are written by the same statements.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable

import pgtrigger
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import ImportJob
from customers.models.customer import HISTORY_WRITTEN_SETTING
from customers.normalise import afnor_locality_line
from customers.services.imports.validation import customer_row_parse

CHUNK_ROWS = 20_000
STAGING_COLUMNS = [
    "row_number",
    "external_id",
    "title",
    "given_name",
    "family_name",
    "company_name",
    "birth_date",
    "email",
    "email_raw",
    "phone",
    "phone_raw",
    "phone_kind",
    "line1",
    "line2",
    "line3",
    "line4",
    "line5",
    "line6",
    "postcode",
    "city",
    "country",
    "has_address",
    "language",
    "stage",
    "tags",
    "notes",
]
STAGING_DDL = """
CREATE TEMP TABLE import_staging (
    row_number integer PRIMARY KEY, external_id text, title text, given_name text, family_name text,
    company_name text, birth_date date, email text, email_raw text, phone text, phone_raw text, phone_kind text,
    line1 text, line2 text, line3 text, line4 text, line5 text, line6 text, postcode text, city text,
    country text, has_address boolean, language text, stage text, tags text, notes text,
    customer_id bigint, is_new boolean NOT NULL DEFAULT false, has_primary_email boolean NOT NULL DEFAULT false,
    has_primary_phone boolean NOT NULL DEFAULT false, has_primary_address boolean NOT NULL DEFAULT false,
    has_same_address boolean NOT NULL DEFAULT false
)
"""
TITLES = {"mr": "M.", "ms": "Mme", "dr": "Dr"}
LIVE = "c.merged_into_id IS NULL AND c.anonymised_at IS NULL"

Report = Callable[[int, str, str, str], None]
Progress = Callable[[int], None]


def _recipient(row: dict) -> str:
    if row["company_name"] and not (row["given_name"] or row["family_name"]):
        return row["company_name"].upper()[:38]
    parts = [TITLES.get(row["title"], ""), row["given_name"], row["family_name"].upper()]
    return " ".join(part for part in parts if part)[:38]


def _staging_tuple(number: int, row: dict, values: dict) -> tuple:
    line6 = ""
    if row["has_address"]:
        line6 = afnor_locality_line(postcode=row["postcode"], city=row["city"], country=row["country"])
    return (
        number,
        row["external_id"],
        row["title"],
        row["given_name"],
        row["family_name"],
        row["company_name"],
        row["birth_date"],
        row["email"],
        (values.get("email") or "")[:254],
        row["phone"],
        (values.get("phone") or "")[:254],
        row["phone_kind"],
        _recipient(row) if row["has_address"] else "",
        row["line2"],
        row["line3"],
        row["line4"],
        row["line5"],
        line6,
        row["postcode"],
        row["city"][:100],
        row["country"],
        row["has_address"],
        row["language"],
        row["stage"],
        ",".join(row["tags"]),
        row["notes"],
    )


def _copy_chunk(chunk: list[tuple]) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY import_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN") as copy:
            for record in chunk:
                copy.write_row(record)


def _stage(rows: Iterable[tuple[int, dict]], *, report: Report, progress: Progress) -> int:
    """Validate, normalise and COPY the rows into ``import_staging``; return how many were read."""
    chunk: list[tuple] = []
    read = 0
    for number, values in rows:
        read += 1
        row, errors = customer_row_parse(values)
        if errors:
            for name, value, reason in errors.items:
                report(number, name, value, reason)
        else:
            chunk.append(_staging_tuple(number, row, values))
        if len(chunk) >= CHUNK_ROWS:
            _copy_chunk(chunk)
            chunk = []
            progress(read)
    if chunk:
        _copy_chunk(chunk)
    progress(read)
    return read


def _reject(cursor, sql: str, params: dict, *, report: Report, reason: Callable[[tuple], tuple[str, str, str]]):
    cursor.execute(sql, params)
    for record in cursor.fetchall():
        report(record[0], *reason(record))


def _find_duplicates_and_matches(cursor, *, source: str, report: Report) -> None:
    for column in ("external_id", "email"):
        _reject(
            cursor,
            f"""
            DELETE FROM import_staging s USING (
                SELECT row_number, {column} AS value,
                       first_value(row_number) OVER (PARTITION BY {column} ORDER BY row_number) AS first_row
                FROM import_staging WHERE {column} <> ''
            ) d
            WHERE s.row_number = d.row_number AND d.first_row <> d.row_number
            RETURNING s.row_number, d.value, d.first_row
            """,  # noqa: S608 - column names are constants
            {},
            report=report,
            reason=lambda r, c=column: (c, r[1], _("Duplicate of row %(row)d in this file.") % {"row": r[2]}),
        )
    cursor.execute(
        f"""
        UPDATE import_staging s SET customer_id = x.customer_id
        FROM customers_customerexternalid x JOIN customers_customer c ON c.id = x.customer_id AND {LIVE}
        WHERE x.source = %(source)s AND x.value = s.external_id AND s.external_id <> ''
        """,  # noqa: S608
        {"source": source},
    )
    cursor.execute(
        f"""
        CREATE TEMP TABLE import_email_match ON COMMIT DROP AS
        SELECT s.row_number, array_agg(DISTINCT c.account_number ORDER BY c.account_number) AS accounts,
               min(c.id) AS customer_id
        FROM import_staging s
        JOIN customers_contactpoint cp ON cp.kind = 'email' AND cp.value = s.email
        JOIN customers_customer c ON c.id = cp.customer_id AND {LIVE}
        WHERE s.customer_id IS NULL AND s.email <> ''
        GROUP BY s.row_number
        """  # noqa: S608
    )
    _reject(
        cursor,
        """
        DELETE FROM import_staging s USING import_email_match m
        WHERE s.row_number = m.row_number AND cardinality(m.accounts) > 1
        RETURNING s.row_number, s.email, m.accounts
        """,
        {},
        report=report,
        reason=lambda r: (
            "email",
            r[1],
            _("Matches several customers (%(accounts)s); merge them or give an id.")
            % {"accounts": ", ".join(r[2][:5])},
        ),
    )
    cursor.execute(
        "UPDATE import_staging s SET customer_id = m.customer_id FROM import_email_match m "
        "WHERE s.row_number = m.row_number"
    )
    # Two rows of the file that reach the same existing customer by different keys: keep the first.
    _reject(
        cursor,
        """
        DELETE FROM import_staging s USING (
            SELECT row_number, first_value(row_number) OVER (PARTITION BY customer_id ORDER BY row_number) AS first_row
            FROM import_staging WHERE customer_id IS NOT NULL
        ) d
        WHERE s.row_number = d.row_number AND d.first_row <> d.row_number
        RETURNING s.row_number, s.email, d.first_row
        """,
        {},
        report=report,
        reason=lambda r: ("email", r[1] or "", _("Same customer as row %(row)d in this file.") % {"row": r[2]}),
    )


# The insert history triggers are skipped through HISTORY_WRITTEN_SETTING (a WHEN condition, no function
# call per row); the customer update trigger has pghistory's change condition, so it is ignored the
# pgtrigger way.
HISTORY_TRIGGERS = ["customers.Customer:update_update"]


def _ignored_triggers() -> str:
    """The value of ``pgtrigger.ignore`` that skips HISTORY_TRIGGERS for the rest of the transaction.

    (``pgtrigger.ignore()`` does the same per statement, but cannot prefix statements with named
    parameters.)
    """
    ids = set()
    for model, trigger in pgtrigger.registry.registered(*HISTORY_TRIGGERS):
        pgid = trigger.get_pgid(model)
        ids |= {pgid, f"{model._meta.db_table}:{pgid}"}
    return "{" + ",".join(sorted(ids)) + "}"


WRITE_SQL = [
    "UPDATE import_staging SET customer_id = nextval(pg_get_serial_sequence('customers_customer', 'id')), "
    "is_new = true WHERE customer_id IS NULL",
    """
    WITH created AS (
        INSERT INTO customers_customer (id, kind, title, given_name, family_name, company_name, birth_date,
            language, stage, stage_entered_at, preferred_channel, tags, attributes, notes, created_via, created_at,
            updated_at)
        SELECT customer_id,
               CASE WHEN company_name <> '' AND given_name = '' AND family_name = '' THEN 'company' ELSE 'person' END,
               title, given_name, family_name, company_name, birth_date, language, stage, %(now)s, '',
               coalesce(string_to_array(nullif(tags, ''), ','), '{}')::varchar(50)[], '{}'::jsonb, notes, 'import',
               %(now)s, %(now)s
        FROM import_staging WHERE is_new ORDER BY row_number
        RETURNING *
    )
    INSERT INTO customers_customerevent (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id,
        kind, title, given_name, family_name, company_name, birth_date, language, stage,
        preferred_channel, tags, attributes, notes, anonymised_at, merged_into_id, owner_id)
    SELECT %(now)s, 'insert', id, %(context)s,
        kind, title, given_name, family_name, company_name, birth_date, language, stage,
        preferred_channel, tags, attributes, notes, anonymised_at, merged_into_id, owner_id
    FROM created
    """,
    """
    INSERT INTO customers_stagechange (customer_id, stage, previous_stage, entered_at, acting_user_id, source)
    SELECT customer_id, stage, '', %(now)s, %(user)s, 'import' FROM import_staging WHERE is_new
    """,
    """
    WITH changed AS (
        UPDATE customers_customer c SET
            title = CASE WHEN s.title <> '' THEN s.title ELSE c.title END,
            given_name = CASE WHEN s.given_name <> '' THEN s.given_name ELSE c.given_name END,
            family_name = CASE WHEN s.family_name <> '' THEN s.family_name ELSE c.family_name END,
            company_name = CASE WHEN s.company_name <> '' THEN s.company_name ELSE c.company_name END,
            birth_date = coalesce(s.birth_date, c.birth_date),
            tags = ARRAY(SELECT DISTINCT unnest(
                             c.tags || coalesce(string_to_array(nullif(s.tags, ''), ','), '{}')::varchar(50)[]
                         ) ORDER BY 1),
            notes = CASE WHEN s.notes = '' THEN c.notes WHEN c.notes = '' THEN s.notes
                         ELSE c.notes || E'\\n' || s.notes END,
            updated_at = %(now)s
        FROM import_staging s WHERE c.id = s.customer_id AND NOT s.is_new
        RETURNING c.*
    )
    INSERT INTO customers_customerevent (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id,
        kind, title, given_name, family_name, company_name, birth_date, language, stage,
        preferred_channel, tags, attributes, notes, anonymised_at, merged_into_id, owner_id)
    SELECT %(now)s, 'update', id, %(context)s,
        kind, title, given_name, family_name, company_name, birth_date, language, stage,
        preferred_channel, tags, attributes, notes, anonymised_at, merged_into_id, owner_id
    FROM changed
    """,
    # What existing customers already have is read once, before the inserts: a NOT EXISTS on the table
    # being filled would be planned from its statistics before the load (an empty table: seq scans).
    """
    UPDATE import_staging s SET
        has_primary_email = EXISTS (SELECT 1 FROM customers_contactpoint p
                                    WHERE p.customer_id = s.customer_id AND p.kind = 'email' AND p.is_primary),
        has_primary_phone = EXISTS (SELECT 1 FROM customers_contactpoint p
                                    WHERE p.customer_id = s.customer_id AND p.kind = s.phone_kind AND p.is_primary),
        has_primary_address = EXISTS (SELECT 1 FROM customers_postaladdress a
                                      WHERE a.customer_id = s.customer_id AND a.is_primary),
        has_same_address = EXISTS (SELECT 1 FROM customers_postaladdress a WHERE a.customer_id = s.customer_id
                                   AND a.line4 = s.line4 AND a.postcode = s.postcode)
    WHERE NOT s.is_new
    """,
    # The per-row foreign key checks look customers up by id: with statistics from before the load
    # (possibly an empty table) PostgreSQL plans them as sequential scans, quadratic over the file.
    "ANALYZE customers_customer",
    """
    WITH added AS (
        INSERT INTO customers_contactpoint (customer_id, kind, value, raw_value, label, social_network, is_primary,
            is_verified, is_undeliverable, undeliverable_reason, created_at, updated_at)
        SELECT s.customer_id, k.kind, k.value, k.raw, '', '', NOT k.has_primary, false, false, '', %(now)s, %(now)s
        FROM import_staging s
        CROSS JOIN LATERAL (VALUES ('email', s.email, s.email_raw, s.has_primary_email),
                                   (s.phone_kind, s.phone, s.phone_raw, s.has_primary_phone)
                       ) k(kind, value, raw, has_primary)
        WHERE k.value <> ''
        ON CONFLICT (customer_id, kind, value) DO NOTHING
        RETURNING *
    )
    INSERT INTO customers_contactpointevent (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, customer_id, kind,
        value, label, is_primary, is_verified, is_undeliverable)
    SELECT %(now)s, 'insert', id, %(context)s, customer_id, kind, value, label, is_primary, is_verified,
           is_undeliverable
    FROM added
    """,
    """
    WITH added AS (
        INSERT INTO customers_postaladdress (customer_id, line1, line2, line3, line4, line5, line6, postcode, city,
            country, is_primary, is_undeliverable, created_at, updated_at)
        SELECT s.customer_id, s.line1, s.line2, s.line3, s.line4, s.line5, s.line6, s.postcode, s.city, s.country,
               NOT s.has_primary_address, false, %(now)s, %(now)s
        FROM import_staging s
        WHERE s.has_address AND NOT s.has_same_address
        RETURNING *
    )
    INSERT INTO customers_postaladdressevent (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, customer_id,
        line1, line2, line3, line4, line5, line6, postcode, city, country, is_primary, is_undeliverable)
    SELECT %(now)s, 'insert', id, %(context)s, customer_id, line1, line2, line3, line4, line5, line6, postcode, city,
           country, is_primary, is_undeliverable
    FROM added
    """,
    """
    INSERT INTO customers_customerexternalid (customer_id, source, value, created_at)
    SELECT customer_id, %(source)s, external_id, %(now)s FROM import_staging WHERE external_id <> ''
    ON CONFLICT (source, value) DO NOTHING
    """,
]


def customers_import_bulk(
    *, job: ImportJob, rows: Iterable[tuple[int, dict]], report: Report, progress: Progress, dry_run: bool
) -> tuple[int, int]:
    """Import a large customer file set-based; return ``(created, updated)`` (would-be, in a dry run).

    Must run outside a transaction (the COPY chunks commit the progress as they go); the writes happen
    in one transaction at the end. A dry run stops after matching: nothing but the report is written.
    """
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_staging")
        cursor.execute(STAGING_DDL)
    try:
        _stage(rows, report=report, progress=progress)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ANALYZE import_staging")
            _find_duplicates_and_matches(cursor, source=job.source, report=report)
            cursor.execute("SELECT count(*) FILTER (WHERE customer_id IS NULL), count(customer_id) FROM import_staging")
            created, updated = cursor.fetchone()
            if not dry_run:
                now = timezone.now()
                context = uuid.uuid4()
                metadata = {"user": job.created_by_id, "channel": "import", "import_job": job.pk}
                cursor.execute(
                    "INSERT INTO pghistory_context (id, created_at, updated_at, metadata) VALUES (%s, %s, %s, %s)",
                    [context, now, now, json.dumps(metadata)],
                )
                params = {"now": now, "user": job.created_by_id, "source": job.source, "context": context}
                # The per-row history triggers would upsert the same context row once per row (quadratic in
                # one transaction); each statement writes its history rows itself, set-based, instead.
                cursor.execute(
                    "SELECT set_config('pgtrigger.ignore', %s, true), set_config(%s, 'on', true)",
                    [_ignored_triggers(), HISTORY_WRITTEN_SETTING],
                )
                for statement in WRITE_SQL:
                    cursor.execute(statement, params)
                cursor.execute(
                    "SELECT set_config('pgtrigger.ignore', '{}', true), set_config(%s, 'off', true)",
                    [HISTORY_WRITTEN_SETTING],
                )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS import_staging")
    return created, updated
