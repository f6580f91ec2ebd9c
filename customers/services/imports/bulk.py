"""The bulk path for large customer files: COPY into a staging table, then set-based SQL.

The cells are copied as they are into a temporary table in chunks (progress is committed between
chunks); the rows in the common formats are then validated and normalised in SQL (``CLEAN_SQL``,
which gives exactly what ``validation.customer_row_parse`` gives: a test compares them), the others
in Python, which reports what is wrong with them. Duplicates inside the
file, matches with existing customers (the source's external id, then the normalised email) and
ambiguous matches are then found in SQL, and customers, stage entries, contact points, addresses and
external ids are written with INSERT ... SELECT / UPDATE ... FROM in one transaction: the valid rows
all land, or none. History rows (pghistory, context "import") are written by the same statements.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Iterable

import pgtrigger
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from customers.choices import Stage
from customers.models import ImportJob
from customers.normalise import FRENCH_POSTCODE, afnor_locality_line
from customers.services.imports.validation import STAGE_VALUES, TITLE_VALUES, customer_row_parse, phone_normalise_fast
from customers.services.imports.validation import TITLES as TITLES_TYPED

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


def _copy_chunk(chunk: list[tuple], table: str = "import_staging", columns: list[str] = STAGING_COLUMNS) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for record in chunk:
                copy.write_row(record)


# The cells the bulk path reads, copied as they are (text) into ``import_raw`` before any check.
RAW_FIELDS = ["external_id", "title", "given_name", "family_name", "company_name", "birth_date", "email", "phone",
              "line2", "line3", "line4", "line5", "postcode", "city", "country", "language", "stage", "tags",
              "notes"]  # fmt: skip
RAW_DDL = (
    "CREATE TEMP TABLE import_raw (row_number integer PRIMARY KEY, "
    + ", ".join(f"{name} text NOT NULL" for name in RAW_FIELDS)
    + ")"
)
# Characters whose Python and SQL handling could differ (Unicode whitespace that ``str.split`` collapses,
# control characters): a row holding one anywhere is validated in Python instead.
UNSURE_CHARACTERS = "[\x01-\x1f\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff]"
TITLE_VALUES_MAP = {**{value: value for value in TITLE_VALUES}, **TITLES_TYPED}
# Which rows SQL vouches for, and their normalised values, exactly as ``customer_row_parse`` and
# ``_staging_tuple`` give them. A row outside this domain (an error, a foreign or unusual phone, a
# two-digit year, non-ASCII where case matters...) goes through the Python parser, which reports it.
CLEAN_SQL = r"""
WITH r AS (
    SELECT row_number,
        regexp_replace(btrim(external_id, ' '), ' {2,}', ' ', 'g') AS external_id,
        lower(title) AS title_typed,
        regexp_replace(btrim(given_name, ' '), ' {2,}', ' ', 'g') AS given_name,
        regexp_replace(btrim(family_name, ' '), ' {2,}', ' ', 'g') AS family_name,
        regexp_replace(btrim(company_name, ' '), ' {2,}', ' ', 'g') AS company_name,
        birth_date AS birth_raw,
        substring(birth_date FROM '^([0-9]{4})-[0-9]{2}-[0-9]{2}$') AS ymd_y,
        substring(birth_date FROM '^([0-9]{2})([/.-])[0-9]{2}\2[0-9]{4}$') AS dmy_d,
        email AS email_raw, lower(email) AS email,
        phone AS phone_raw,
        substring(regexp_replace(phone, '[ .()-]', '', 'g') FROM '^(?:0|\+33|0033)([1-9][0-9]{8})$') AS national,
        rtrim(regexp_replace(btrim(line2, ' '), ' {2,}', ' ', 'g'), '.,;: ') AS line2,
        rtrim(regexp_replace(btrim(line3, ' '), ' {2,}', ' ', 'g'), '.,;: ') AS line3,
        rtrim(regexp_replace(btrim(line4, ' '), ' {2,}', ' ', 'g'), '.,;: ') AS line4,
        rtrim(regexp_replace(btrim(line5, ' '), ' {2,}', ' ', 'g'), '.,;: ') AS line5,
        btrim(postcode, ' ') AS postcode_typed,
        regexp_replace(btrim(city, ' '), ' {2,}', ' ', 'g') AS city,
        CASE WHEN country = '' THEN 'FR' ELSE upper(country) END AS country,
        CASE WHEN left(lower(CASE WHEN language = '' THEN 'fr' ELSE language END), 2) IN ('fr', 'en')
             THEN left(lower(CASE WHEN language = '' THEN 'fr' ELSE language END), 2) ELSE 'fr' END AS language,
        CASE WHEN stage = '' THEN %(default_stage)s ELSE lower(stage) END AS stage,
        CASE WHEN tags = '' THEN '' ELSE coalesce((
            SELECT string_agg(t, ',' ORDER BY t COLLATE "C") FROM (
                SELECT DISTINCT left(lower(btrim(part, ' ')), 50) AS t FROM unnest(string_to_array(tags, ',')) part
                WHERE btrim(part, ' ') <> '') tag), '') END AS tags,
        btrim(notes, ' ') AS notes,
        concat_ws('|', title, email, phone, country, language, stage, tags, birth_date) ~ '^[ -~]*$' AS ascii_keys,
        concat_ws('|', external_id, title, given_name, family_name, company_name, birth_date, email, phone, line2,
                  line3, line4, line5, postcode, city, country, language, stage, tags, notes) !~ %(unsure)s
            AS plain
    FROM import_raw
), d AS (
    SELECT r.*,
        CASE WHEN ymd_y IS NOT NULL THEN ymd_y::int ELSE substring(birth_raw FROM 7 FOR 4)::int END AS y,
        CASE WHEN ymd_y IS NOT NULL THEN substring(birth_raw FROM 6 FOR 2)::int
             ELSE substring(birth_raw FROM 4 FOR 2)::int END AS m,
        CASE WHEN ymd_y IS NOT NULL THEN substring(birth_raw FROM 9 FOR 2)::int ELSE dmy_d::int END AS dd,
        %(titles)s::jsonb ->> title_typed AS title,
        CASE WHEN country = 'FR' THEN replace(postcode_typed, ' ', '') ELSE postcode_typed END AS postcode,
        (city <> '' OR line4 <> '' OR line5 <> '' OR postcode_typed <> '') AS has_address
    FROM r
    WHERE plain AND ascii_keys
), v AS (
    SELECT d.*,
        CASE WHEN birth_raw = '' THEN NULL
             WHEN y BETWEEN 1900 AND 9999 AND m BETWEEN 1 AND 12 AND dd BETWEEN 1 AND 31
                  AND dd <= extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day')
             THEN make_date(y, m, dd) END AS birth_date,
        p.valid AS phone_valid, p.mobile AS phone_mobile
    FROM d LEFT JOIN import_phone_prefix p ON p.prefix = left(d.national, 4)
)
INSERT INTO import_staging (row_number, external_id, title, given_name, family_name, company_name, birth_date, email,
    email_raw, phone, phone_raw, phone_kind, line1, line2, line3, line4, line5, line6, postcode, city, country,
    has_address, language, stage, tags, notes)
SELECT v.row_number, v.external_id, v.title, v.given_name, v.family_name, v.company_name, v.birth_date, v.email,
    left(v.email_raw, 254),
    CASE WHEN v.phone_raw = '' THEN '' ELSE '+33' || v.national END,
    left(v.phone_raw, 254),
    CASE WHEN v.phone_raw = '' THEN '' WHEN v.phone_mobile THEN 'mobile' ELSE 'phone' END,
    CASE WHEN NOT v.has_address THEN ''
         WHEN v.company_name <> '' AND v.given_name = '' AND v.family_name = '' THEN left(uc.upper, 38)
         ELSE left(concat_ws(' ', nullif(%(recipient_titles)s::jsonb ->> v.title, ''), nullif(v.given_name, ''),
                             nullif(uf.upper, '')), 38) END,
    v.line2, v.line3, v.line4, v.line5,
    CASE WHEN v.has_address THEN lo.line6 ELSE '' END,
    v.postcode, left(v.city, 100), v.country, v.has_address, v.language, v.stage, v.tags, v.notes
FROM v
LEFT JOIN import_upper uf ON uf.value = v.family_name
LEFT JOIN import_upper uc ON uc.value = v.company_name
LEFT JOIN import_locality lo ON lo.postcode = v.postcode AND lo.city = v.city AND lo.country = v.country
WHERE char_length(v.external_id) <= 100 AND char_length(v.given_name) <= 100 AND char_length(v.family_name) <= 100
  AND char_length(v.company_name) <= 200
  AND (v.given_name <> '' OR v.family_name <> '' OR v.company_name <> '')
  AND (v.title_typed = '' OR v.title IS NOT NULL)
  AND (v.birth_raw = '' OR (v.birth_date IS NOT NULL AND v.birth_date <= %(today)s))
  AND (v.email_raw = '' OR (v.email_raw ~ '^[!-~]+$' AND v.email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
                            AND char_length(v.email) <= 254))
  AND (v.phone_raw = '' OR (v.phone_raw ~ '^[0-9+ .()-]+$' AND v.phone_raw !~ '^\+33\s*\(0\)'
                            AND v.national IS NOT NULL AND v.phone_valid))
  AND v.country ~ '^[A-Z]{2}$'
  AND char_length(v.line2) <= 38 AND char_length(v.line3) <= 38 AND char_length(v.line4) <= 38
  AND char_length(v.line5) <= 38
  AND (NOT v.has_address OR (v.city <> '' AND (v.line4 <> '' OR v.line5 <> '')
                             AND (v.country <> 'FR' OR v.postcode ~ %(postcode_pattern)s)))
  AND v.stage = ANY(%(stages)s)
"""


def _lookups_fill(cursor) -> None:
    """What is computed once per distinct value in Python (so the SQL gives the very same text): which
    French 4-digit phone prefixes are valid and mobile, capitals of names, and AFNOR locality lines."""
    cursor.execute("CREATE TEMP TABLE import_phone_prefix (prefix text PRIMARY KEY, valid boolean, mobile boolean)")
    cursor.execute("CREATE TEMP TABLE import_upper (value text PRIMARY KEY, upper text NOT NULL)")
    cursor.execute(
        "CREATE TEMP TABLE import_locality (postcode text, city text, country text, line6 text NOT NULL, "
        "PRIMARY KEY (postcode, city, country))"
    )
    cursor.execute(
        r"""
        SELECT DISTINCT ON (left(national, 4)) left(national, 4), phone FROM (
            SELECT phone, substring(regexp_replace(phone, '[ .()-]', '', 'g')
                                    FROM '^(?:0|\+33|0033)([1-9][0-9]{8})$') AS national
            FROM import_raw WHERE phone ~ '^[0-9+ .()-]+$'
        ) p WHERE national IS NOT NULL
        """
    )
    prefixes = []
    for prefix, raw in cursor.fetchall():
        try:
            _e164, is_mobile = phone_normalise_fast(raw)
            prefixes.append((prefix, True, is_mobile))
        except ApplicationError:
            prefixes.append((prefix, False, False))
    _copy_chunk(prefixes, "import_phone_prefix", ["prefix", "valid", "mobile"])
    cursor.execute(
        """
        SELECT DISTINCT regexp_replace(btrim(v, ' '), ' {2,}', ' ', 'g')
        FROM import_raw, LATERAL (VALUES (family_name), (company_name)) n(v) WHERE v <> ''
        """
    )
    _copy_chunk([(value, value.upper()) for (value,) in cursor.fetchall()], "import_upper", ["value", "upper"])
    cursor.execute(
        """
        SELECT DISTINCT CASE WHEN c = 'FR' THEN replace(btrim(postcode, ' '), ' ', '') ELSE btrim(postcode, ' ') END,
               regexp_replace(btrim(city, ' '), ' {2,}', ' ', 'g'), c
        FROM (SELECT postcode, city, CASE WHEN country = '' THEN 'FR' ELSE upper(country) END AS c FROM import_raw) a
        """
    )
    _copy_chunk(
        [(p, city, c, afnor_locality_line(postcode=p, city=city, country=c)) for p, city, c in cursor.fetchall()],
        "import_locality",
        ["postcode", "city", "country", "line6"],
    )


def _stage(rows: Iterable[tuple[int, dict]], *, report: Report, progress: Progress) -> int:
    """COPY the cells into ``import_raw``, then validate and normalise them into ``import_staging``:
    set-based in SQL for the rows in the common formats, in Python (``customer_row_parse``, which
    reports what is wrong) for the others. Return how many rows were read."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_raw, import_phone_prefix, import_upper, import_locality")
        cursor.execute(RAW_DDL)
    chunk: list[tuple] = []
    read = 0
    for number, values in rows:
        read += 1
        chunk.append((number, *[values.get(name) or "" for name in RAW_FIELDS]))
        if len(chunk) >= CHUNK_ROWS:
            _copy_chunk(chunk, "import_raw", ["row_number", *RAW_FIELDS])
            chunk = []
            progress(read)
    if chunk:
        _copy_chunk(chunk, "import_raw", ["row_number", *RAW_FIELDS])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE import_raw")
        _lookups_fill(cursor)
        cursor.execute(
            CLEAN_SQL,
            {
                "unsure": UNSURE_CHARACTERS,
                "titles": json.dumps(TITLE_VALUES_MAP),
                "recipient_titles": json.dumps(TITLES),
                "default_stage": str(Stage.PROSPECT),
                "stages": sorted(STAGE_VALUES),
                "today": datetime.date.today(),
                "postcode_pattern": FRENCH_POSTCODE.pattern.replace("?:", "").replace("\\d", "[0-9]"),
            },
        )
        cursor.execute(
            f"SELECT row_number, {', '.join(RAW_FIELDS)} FROM import_raw r "  # noqa: S608 - constant names
            "WHERE NOT EXISTS (SELECT 1 FROM import_staging s WHERE s.row_number = r.row_number) ORDER BY row_number"
        )
        others = cursor.fetchall()
    chunk = []
    for number, *cells in others:
        values = dict(zip(RAW_FIELDS, cells, strict=True))
        row, errors = customer_row_parse(values)
        if errors:
            for name, value, reason in errors.items:
                report(number, name, value, reason)
        else:
            chunk.append(_staging_tuple(number, row, values))
    if chunk:
        _copy_chunk(chunk)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_raw, import_phone_prefix, import_upper, import_locality")
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


HISTORY_TRIGGERS = [
    "customers.Customer:insert_insert",
    "customers.Customer:update_update",
    "customers.ContactPoint:insert_insert",
    "customers.PostalAddress:insert_insert",
]


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
        -- In value order: the value index (2.5M entries at 1M customers) is then filled page after page.
        ORDER BY k.value
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
                cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [_ignored_triggers()])
                for statement in WRITE_SQL:
                    cursor.execute(statement, params)
                cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS import_staging")
    return created, updated
