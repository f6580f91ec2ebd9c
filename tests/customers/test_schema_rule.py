"""The schema rule of DESIGN.md section 4, checked on the models so that it cannot rot.

A *customer-keyed* table is one whose model has a foreign key to ``Customer``. For the schema to be
distributable by customer (Citus, DESIGN.md section 8):

- every unique constraint of a customer-keyed table includes its ``customer`` column (a distributed
  table can only enforce uniqueness within one shard, i.e. one customer);
- every foreign key from a customer-keyed table to another customer-keyed table includes
  ``customer_id``: Django cannot declare composite keys, so the model field is ``db_constraint=False``
  and a composite ``(customer_id, <fk>_id) REFERENCES target (customer_id, id)`` exists in PostgreSQL
  (``customers/migrations/0003_composite_foreign_keys.py``).

Documented exceptions:

- ``CustomerExternalId`` is the identity lookup table keyed by ``(source, value)``: it answers "who is
  ERP-1234?" before the customer is known, so it becomes a Citus reference table, not a distributed one.
- ``DuplicatePair`` links two customers (``customer_low``, ``customer_high``), so it cannot be co-located
  with one of them; it is small and is a reference table too.
- pghistory event models are exempt from the foreign key part: they *copy* the tracked row's values at
  the time of the event (including ``customer_id``), their ``pgh_obj`` link has no constraint on
  purpose (the tracked row may be deleted while its history stays), and they never join back through a
  constraint. Their unique constraints are still checked.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

from customers.models import Customer, CustomerExternalId, DuplicatePair

UNIQUE_EXCEPTIONS = {CustomerExternalId, DuplicatePair}


def _is_event_model(model) -> bool:
    return any(field.name == "pgh_obj" for field in model._meta.fields)


def _customer_fks(model) -> list[models.ForeignKey]:
    return [
        field
        for field in model._meta.fields
        if isinstance(field, models.ForeignKey) and field.related_model is Customer
    ]


def customer_keyed_models() -> list:
    """Every concrete model (all apps, later ones included) with a foreign key to ``Customer``."""
    return [
        model
        for model in apps.get_models()
        if model is not Customer and not model._meta.proxy and model._meta.managed and _customer_fks(model)
    ]


def test_it_finds_the_customer_keyed_tables():
    keyed = {model._meta.label for model in customer_keyed_models()}
    assert {"customers.ContactPoint", "customers.Order", "customers.OrderLine", "customers.Invoice",
            "customers.ContactPointEvent"} <= keyed  # fmt: skip


def test_it_includes_the_customer_in_every_unique_constraint():
    offenders = []
    for model in customer_keyed_models():
        if model in UNIQUE_EXCEPTIONS:
            continue
        customer_field = next((f.name for f in _customer_fks(model) if f.name == "customer"), None)
        for constraint in model._meta.constraints:
            # A partial constraint over rows with no customer (a thread of an unknown number) is not keyed by one.
            without_customer = "('customer__isnull', True)" in str(getattr(constraint, "condition", ""))
            if (isinstance(constraint, models.UniqueConstraint) and customer_field not in (constraint.fields or ())
                    and not without_customer):  # fmt: skip
                offenders.append(f"{model._meta.label}: constraint {constraint.name} {constraint.fields}")
        for together in model._meta.unique_together:
            if customer_field not in together:
                offenders.append(f"{model._meta.label}: unique_together {together}")
        for field in model._meta.fields:
            if field.unique and not field.primary_key:
                offenders.append(f"{model._meta.label}.{field.name} is unique=True without the customer")
    assert not offenders, "Unique constraints that do not include customer:\n" + "\n".join(offenders)


def _composite_foreign_keys() -> set[tuple[str, tuple[str, ...], str, tuple[str, ...]]]:
    """(table, columns, referenced table, referenced columns) of every multi-column FK in PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text,
                   ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
                   ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
            FROM pg_constraint c
            WHERE c.contype = 'f' AND array_length(c.conkey, 1) > 1
            """
        )
        return {(table, tuple(cols), target, tuple(target_cols)) for table, target, cols, target_cols in cursor}


@pytest.mark.django_db
def test_it_links_customer_keyed_tables_by_composite_keys_only():
    keyed = set(customer_keyed_models())
    composite = _composite_foreign_keys()
    offenders, checked = [], 0
    for model in keyed:
        if _is_event_model(model) or model in UNIQUE_EXCEPTIONS:
            continue
        for field in model._meta.fields:
            if not isinstance(field, models.ForeignKey) or field.related_model not in keyed:
                continue
            checked += 1
            label = f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}"
            if field.db_constraint:
                offenders.append(f"{label}: a single-column constraint (use db_constraint=False)")
            wanted = (model._meta.db_table, ("customer_id", field.column), field.related_model._meta.db_table,
                      ("customer_id", "id"))  # fmt: skip
            if wanted not in composite:
                offenders.append(f"{label}: no composite foreign key (customer_id, {field.column}) in PostgreSQL")
    assert checked >= 3  # order lines -> orders, invoices -> orders and contracts at least
    assert not offenders, "Foreign keys breaking the schema rule:\n" + "\n".join(offenders)
