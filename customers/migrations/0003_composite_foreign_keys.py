"""Foreign keys between customer-keyed tables include customer_id (DESIGN.md section 4).

Django cannot declare composite foreign keys, so the models use ``db_constraint=False`` and these
constraints are added here. They are DEFERRABLE INITIALLY DEFERRED so that a merge can re-point an
order and its lines in one transaction, checked at commit.
"""

from django.db import migrations

COMPOSITE_KEYS = [
    # (table, constraint, columns, referenced table, on delete)
    ("customers_orderline", "order_line_order_fk", "customer_id, order_id", "customers_order", "CASCADE"),
    ("customers_invoice", "invoice_order_fk", "customer_id, order_id", "customers_order", "NO ACTION"),
    ("customers_invoice", "invoice_contract_fk", "customer_id, contract_id", "customers_contract", "NO ACTION"),
]

FORWARD = "\n".join(
    f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
    f"REFERENCES {target} (customer_id, id) ON DELETE {on_delete} DEFERRABLE INITIALLY DEFERRED;"
    for table, name, columns, target, on_delete in COMPOSITE_KEYS
)
BACKWARD = "\n".join(f"ALTER TABLE {table} DROP CONSTRAINT {name};" for table, name, *_ in COMPOSITE_KEYS)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_consent_ledger_guard")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
