"""Resolve by name + postcode through a GiST index on (postcode, name trigrams) instead of GIN.

The multi-column GIN index of migration 0006 keeps one posting list per key and column: a query
intersects the postcode's list with the full lists of the name's trigrams across the whole table
(``" je"`` appears in a hundred thousand names at 1M customers), so even a small postcode read
~900 index pages and the lookup took ~30 ms. A GiST index (btree_gist for the postcode, pg_trgm's
signatures for the name) is a tree whose entries are grouped by postcode first: the search descends
into that postcode's subtree only and tests each name's trigram signature there. At 1M customers
the densest postcode (5,971 addresses) answers ``postcode = X AND search_name % q`` in ~5 ms.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_name_postcode_lookup"), ("crm", "0002_postgres_extensions")]

    operations = [
        BtreeGistExtension(),
        migrations.RunSQL(
            "CREATE INDEX name_postcode_gist ON customers_name_postcode "
            "USING gist (postcode, search_name gist_trgm_ops); "
            "DROP INDEX name_postcode_trgm;",
            "CREATE INDEX name_postcode_trgm ON customers_name_postcode "
            "USING gin (postcode, search_name gin_trgm_ops); "
            "DROP INDEX name_postcode_gist;",
        ),
    ]
