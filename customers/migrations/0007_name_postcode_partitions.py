"""The name + postcode lookup of migration 0006, hash-partitioned by postcode into 64 tables.

0006's multi-column GIN index (btree_gin for the postcode, pg_trgm for the name) keeps one posting list
per key and column: a query intersects the postcode's list with the name trigrams' lists over the whole
table (``" je"`` is in a hundred thousand names at 1M customers), so even a postcode of 41 addresses read
~900 index pages and took ~30 ms. Partitioned by a hash of the postcode, a query reads one partition
(about 1/64 of the addresses), whose trigram lists are that much shorter: ~1 ms for a small postcode,
~5 ms for the densest (5,971 addresses at 1M customers).

A GiST index on (postcode, trigrams) answered as fast but cost ~90 µs per inserted address (9 s for a
100,000-row import); GIN's pending list keeps inserts at ~16 µs.

No primary key (a partitioned table's unique keys must include the postcode): new addresses cannot be in
the table yet, and an updated or deleted address is removed through the customer index first.
"""

import importlib

from django.db import migrations

PARTITIONS = 64

FORWARD = (
    """
DROP TABLE customers_name_postcode;
CREATE TABLE customers_name_postcode (
    address_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    postcode varchar(12) NOT NULL,
    search_name text NOT NULL
) PARTITION BY HASH (postcode);
"""
    + "".join(
        f"CREATE TABLE customers_name_postcode_{i} PARTITION OF customers_name_postcode "
        f"FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {i});\n"
        for i in range(PARTITIONS)
    )
    + r"""
INSERT INTO customers_name_postcode (address_id, customer_id, postcode, search_name)
SELECT a.id, a.customer_id, a.postcode, c.search_name
FROM customers_postaladdress a JOIN customers_customer c ON c.id = a.customer_id;
CREATE INDEX name_postcode_trgm ON customers_name_postcode USING gin (postcode, search_name gin_trgm_ops);
CREATE INDEX name_postcode_customer ON customers_name_postcode (customer_id);

CREATE OR REPLACE FUNCTION customers_name_postcode_addresses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM customers_name_postcode n USING old_rows o
        WHERE n.customer_id = o.customer_id AND n.address_id = o.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO customers_name_postcode (address_id, customer_id, postcode, search_name)
        SELECT a.id, a.customer_id, a.postcode, c.search_name
        FROM new_rows a JOIN customers_customer c ON c.id = a.customer_id;
    END IF;
    RETURN NULL;
END $$;
"""
)

DROP_0006 = """
DROP TABLE customers_name_postcode;
DROP TRIGGER name_postcode_address_truncate ON customers_postaladdress;
DROP TRIGGER name_postcode_customer_update ON customers_customer;
DROP TRIGGER name_postcode_address_delete ON customers_postaladdress;
DROP TRIGGER name_postcode_address_update ON customers_postaladdress;
DROP TRIGGER name_postcode_address_insert ON customers_postaladdress;
DROP FUNCTION customers_name_postcode_truncate();
DROP FUNCTION customers_name_postcode_customers();
DROP FUNCTION customers_name_postcode_addresses();
"""


def backward_sql() -> str:
    """Back to 0006's single table: drop everything 0006 made, then run 0006's SQL again."""
    return DROP_0006 + importlib.import_module("customers.migrations.0006_name_postcode_lookup").FORWARD


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_name_postcode_lookup")]

    operations = [migrations.RunSQL(FORWARD, backward_sql())]
