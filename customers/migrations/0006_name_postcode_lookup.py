"""A lookup table for identity resolution by name + postcode, kept by triggers.

``customers_name_postcode`` holds one row per postal address: its postcode and its customer's folded
``search_name``. A multi-column GIN index (btree_gin for the postcode, pg_trgm for the name) answers
``postcode = X AND search_name % q`` from the index: at 1M customers a dense postcode holds ~6,000
addresses, and computing similarity on each (the previous plan) cost 50 ms and more; the index keeps
only the few hundred names sharing enough trigrams.

Statement-level triggers with transition tables keep it in step set-based (a bulk import inserting
100,000 addresses runs one INSERT ... SELECT, not 100,000 row triggers): addresses inserted, updated
(re-pointed by a merge) or deleted, customers renamed or anonymised (``search_name`` changed), and
TRUNCATE. No foreign keys, so the test suite's TRUNCATE of the Django tables is not refused; the
TRUNCATE trigger empties the lookup too. Plain SQL: the models' state is unchanged.
"""

from django.db import migrations

FORWARD = r"""
CREATE TABLE customers_name_postcode (
    address_id bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    postcode varchar(12) NOT NULL,
    search_name text NOT NULL
);
INSERT INTO customers_name_postcode (address_id, customer_id, postcode, search_name)
SELECT a.id, a.customer_id, a.postcode, c.search_name
FROM customers_postaladdress a JOIN customers_customer c ON c.id = a.customer_id;
CREATE INDEX name_postcode_trgm ON customers_name_postcode USING gin (postcode, search_name gin_trgm_ops);
CREATE INDEX name_postcode_customer ON customers_name_postcode (customer_id);

CREATE FUNCTION customers_name_postcode_addresses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM customers_name_postcode n USING old_rows o WHERE n.address_id = o.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO customers_name_postcode (address_id, customer_id, postcode, search_name)
        SELECT a.id, a.customer_id, a.postcode, c.search_name
        FROM new_rows a JOIN customers_customer c ON c.id = a.customer_id
        ON CONFLICT (address_id) DO UPDATE
            SET customer_id = EXCLUDED.customer_id, postcode = EXCLUDED.postcode, search_name = EXCLUDED.search_name;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER name_postcode_address_insert AFTER INSERT ON customers_postaladdress
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_name_postcode_addresses();
CREATE TRIGGER name_postcode_address_update AFTER UPDATE ON customers_postaladdress
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customers_name_postcode_addresses();
CREATE TRIGGER name_postcode_address_delete AFTER DELETE ON customers_postaladdress
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_name_postcode_addresses();

CREATE FUNCTION customers_name_postcode_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customers_name_postcode n SET search_name = nw.search_name
    FROM new_rows nw JOIN old_rows o ON o.id = nw.id
    WHERE n.customer_id = nw.id AND nw.search_name IS DISTINCT FROM o.search_name;
    RETURN NULL;
END $$;
CREATE TRIGGER name_postcode_customer_update AFTER UPDATE ON customers_customer
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customers_name_postcode_customers();

CREATE FUNCTION customers_name_postcode_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE customers_name_postcode;
    RETURN NULL;
END $$;
CREATE TRIGGER name_postcode_address_truncate AFTER TRUNCATE ON customers_postaladdress
    FOR EACH STATEMENT EXECUTE FUNCTION customers_name_postcode_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS name_postcode_address_truncate ON customers_postaladdress;
DROP TRIGGER IF EXISTS name_postcode_customer_update ON customers_customer;
DROP TRIGGER IF EXISTS name_postcode_address_delete ON customers_postaladdress;
DROP TRIGGER IF EXISTS name_postcode_address_update ON customers_postaladdress;
DROP TRIGGER IF EXISTS name_postcode_address_insert ON customers_postaladdress;
DROP FUNCTION IF EXISTS customers_name_postcode_truncate();
DROP FUNCTION IF EXISTS customers_name_postcode_customers();
DROP FUNCTION IF EXISTS customers_name_postcode_addresses();
DROP TABLE IF EXISTS customers_name_postcode;
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_drop_redundant_contact_index")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
