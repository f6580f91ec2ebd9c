"""The set-based statements of a customer import, run in order in one transaction (see ``bulk``).

Each statement writes its own history rows (pghistory, one context "import") and marks the staging
rows it changed, so that a row matched to a customer who already holds every value counts as
unchanged and writes nothing: re-importing a file is a no-op.
"""

# Rows the identity rule did not match get a new customer id.
NEW_IDS = (
    "UPDATE import_staging SET customer_id = nextval(pg_get_serial_sequence('customers_customer', 'id')), "
    "is_new = true WHERE outcome <> 'match'"
)

CUSTOMER_COLUMNS = """kind, title, given_name, family_name, company_name, birth_date, language, stage,
        preferred_channel, tags, attributes, notes, anonymised_at, merged_into_id, owner_id"""

CREATE_CUSTOMERS = f"""
    WITH created AS (
        INSERT INTO customers_customer (id, kind, title, given_name, family_name, company_name, birth_date,
            language, stage, stage_entered_at, preferred_channel, tags, attributes, notes, created_via, created_at,
            updated_at)
        SELECT customer_id,
               CASE WHEN company_name <> '' AND given_name = '' AND family_name = '' THEN 'company' ELSE 'person' END,
               title, given_name, family_name, company_name, birth_date, language, stage, %(now)s, '',
               coalesce(string_to_array(nullif(tags, ''), ','), '{{}}')::varchar(50)[], '{{}}'::jsonb, notes, 'import',
               %(now)s, %(now)s
        FROM import_staging WHERE is_new ORDER BY row_number
        RETURNING *
    )
    INSERT INTO customers_customerevent (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, {CUSTOMER_COLUMNS})
    SELECT %(now)s, 'insert', id, %(context)s, {CUSTOMER_COLUMNS}
    FROM created
"""  # noqa: S608 - CUSTOMER_COLUMNS is a constant

NEW_STAGES = """
    INSERT INTO customers_stagechange (customer_id, stage, previous_stage, entered_at, acting_user_id, source)
    SELECT customer_id, stage, '', %(now)s, %(user)s, 'import' FROM import_staging WHERE is_new
"""

# A matched customer takes the row's non-empty values (the source's own record says so); notes are
# added once, tags joined. Only customers whose values really change are written (and get history).
UPDATE_CUSTOMERS = f"""
    WITH target AS (
        SELECT c.id, c.stage AS old_stage,
               CASE WHEN s.title <> '' THEN s.title ELSE c.title END AS title,
               CASE WHEN s.given_name <> '' THEN s.given_name ELSE c.given_name END AS given_name,
               CASE WHEN s.family_name <> '' THEN s.family_name ELSE c.family_name END AS family_name,
               CASE WHEN s.company_name <> '' THEN s.company_name ELSE c.company_name END AS company_name,
               coalesce(s.birth_date, c.birth_date) AS birth_date,
               CASE WHEN s.stage_given THEN s.stage ELSE c.stage END AS stage,
               ARRAY(SELECT DISTINCT unnest(
                         c.tags || coalesce(string_to_array(nullif(s.tags, ''), ','), '{{}}')::varchar(50)[]
                     ) ORDER BY 1)::varchar(50)[] AS tags,
               CASE WHEN s.notes = '' OR strpos(c.notes, s.notes) > 0 THEN c.notes WHEN c.notes = '' THEN s.notes
                    ELSE c.notes || E'\\n' || s.notes END AS notes
        FROM import_staging s JOIN customers_customer c ON c.id = s.customer_id
        WHERE NOT s.is_new
    ),
    stages AS (
        INSERT INTO customers_stagechange (customer_id, stage, previous_stage, entered_at, acting_user_id, source)
        SELECT id, stage, old_stage, %(now)s, %(user)s, 'import' FROM target WHERE stage <> old_stage
    ),
    changed AS (
        UPDATE customers_customer c SET
            title = t.title, given_name = t.given_name, family_name = t.family_name, company_name = t.company_name,
            birth_date = t.birth_date, tags = t.tags, notes = t.notes, stage = t.stage,
            stage_entered_at = CASE WHEN t.stage <> c.stage THEN %(now)s ELSE c.stage_entered_at END,
            updated_at = %(now)s
        FROM target t
        WHERE c.id = t.id
          AND (c.title, c.given_name, c.family_name, c.company_name, c.birth_date, c.tags, c.notes, c.stage)
              IS DISTINCT FROM (t.title, t.given_name, t.family_name, t.company_name, t.birth_date, t.tags, t.notes,
                                t.stage)
        RETURNING c.*
    ),
    history AS (
        INSERT INTO customers_customerevent (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id,
            {CUSTOMER_COLUMNS})
        SELECT %(now)s, 'update', id, %(context)s, {CUSTOMER_COLUMNS}
        FROM changed
    )
    UPDATE import_staging s SET changed = true FROM changed WHERE s.customer_id = changed.id
"""  # noqa: S608 - CUSTOMER_COLUMNS is a constant

# What existing customers already have is read once, before the inserts: a NOT EXISTS on the table
# being filled would be planned from its statistics before the load (an empty table: seq scans).
EXISTING = """
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
"""

# The per-row foreign key checks look customers up by id: with statistics from before the load
# (possibly an empty table) PostgreSQL plans them as sequential scans, quadratic over the file.
ANALYZE = "ANALYZE customers_customer"

CONTACT_POINTS = """
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
    ),
    history AS (
        INSERT INTO customers_contactpointevent (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, customer_id,
            kind, value, label, is_primary, is_verified, is_undeliverable)
        SELECT %(now)s, 'insert', id, %(context)s, customer_id, kind, value, label, is_primary, is_verified,
               is_undeliverable
        FROM added
    )
    UPDATE import_staging s SET changed = true
    FROM (SELECT DISTINCT customer_id FROM added) a WHERE s.customer_id = a.customer_id AND NOT s.is_new
"""

ADDRESSES = """
    WITH added AS (
        INSERT INTO customers_postaladdress (customer_id, line1, line2, line3, line4, line5, line6, postcode, city,
            country, is_primary, is_undeliverable, created_at, updated_at)
        SELECT s.customer_id, s.line1, s.line2, s.line3, s.line4, s.line5, s.line6, s.postcode, s.city, s.country,
               NOT s.has_primary_address, false, %(now)s, %(now)s
        FROM import_staging s
        WHERE s.has_address AND NOT s.has_same_address
        RETURNING *
    ),
    history AS (
        INSERT INTO customers_postaladdressevent (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, customer_id,
            line1, line2, line3, line4, line5, line6, postcode, city, country, is_primary, is_undeliverable)
        SELECT %(now)s, 'insert', id, %(context)s, customer_id, line1, line2, line3, line4, line5, line6, postcode,
               city, country, is_primary, is_undeliverable
        FROM added
    )
    UPDATE import_staging s SET changed = true FROM added WHERE s.customer_id = added.customer_id AND NOT s.is_new
"""

EXTERNAL_IDS = """
    WITH added AS (
        INSERT INTO customers_customerexternalid (customer_id, source, value, created_at)
        SELECT customer_id, %(source)s, external_id, %(now)s FROM import_staging WHERE external_id <> ''
        ON CONFLICT (source, value) DO NOTHING
        RETURNING customer_id
    )
    UPDATE import_staging s SET changed = true FROM added WHERE s.customer_id = added.customer_id AND NOT s.is_new
"""

# A consent column appends to the ledger only when it changes the effective (latest) state, with the
# job and the row as proof: importing the same file twice records nothing the second time.
CONSENTS = """
    WITH wanted AS (
        SELECT s.customer_id, s.row_number, split_part(c, ':', 1) AS channel, split_part(c, ':', 2) AS purpose,
               split_part(c, ':', 3) AS status
        FROM import_staging s, unnest(string_to_array(nullif(s.consents, ''), ';')) AS c
    ),
    added AS (
        INSERT INTO customers_consent (customer_id, channel, purpose, status, source, occurred_at, proof_text,
            user_agent, agent_id, recorded_at)
        SELECT w.customer_id, w.channel, w.purpose, w.status, 'import', %(now)s,
               format(%(proof)s, w.row_number), '', %(user)s, %(now)s
        FROM wanted w
        WHERE NOT EXISTS (
            SELECT 1 FROM (
                SELECT x.status FROM customers_consent x
                WHERE x.customer_id = w.customer_id AND x.channel = w.channel AND x.purpose = w.purpose
                ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1
            ) latest WHERE latest.status = w.status
        )
        RETURNING customer_id
    )
    UPDATE import_staging s SET changed = true
    FROM (SELECT DISTINCT customer_id FROM added) a WHERE s.customer_id = a.customer_id AND NOT s.is_new
"""

# Possible duplicates: the new customer against the existing ones the rule flagged, and rows of the
# file that only look alike; both go to the duplicate review the nightly finder feeds.
REVIEW_PAIRS = """
    INSERT INTO customers_duplicatepair (customer_low_id, customer_high_id, score, reasons, status, found_at)
    SELECT least(a, b), greatest(a, b), 0.5, to_jsonb(reasons), 'pending', %(now)s
    FROM (
        SELECT s.customer_id AS a, r.id AS b, s.review_reasons AS reasons
        FROM import_staging s, unnest(s.review_ids) AS r(id)
        WHERE s.outcome = 'possible_duplicate'
        UNION ALL
        SELECT x.customer_id, y.customer_id, v.reasons
        FROM import_review v
        JOIN import_staging x ON x.row_number = v.row_a
        JOIN import_staging y ON y.row_number = v.row_b
    ) pairs
    WHERE a <> b
    ON CONFLICT (customer_low_id, customer_high_id) DO NOTHING
"""

WRITES = [NEW_IDS, CREATE_CUSTOMERS, NEW_STAGES, EXISTING, UPDATE_CUSTOMERS, ANALYZE, CONTACT_POINTS, ADDRESSES,
          EXTERNAL_IDS, CONSENTS, REVIEW_PAIRS]  # fmt: skip
