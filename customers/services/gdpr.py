"""Personal data rights (GDPR articles 15, 17 and 20): export one customer's data, erase a person.

The export covers every table with a foreign key to ``Customer``, found by introspection, so a table
added later by any app is exported without a change here (``tests/customers/test_gdpr_export.py``
fails otherwise). The erasure anonymises the person and keeps what statistics need; apps above
``customers`` that store free text about a customer register a hook in ``ERASE_HOOKS``.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable

import pghistory
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from crm.spreadsheet import csv_cell, csv_dialect
from customers.choices import RecordSource
from customers.models import (
    Consent,
    ContactPoint,
    Customer,
    CustomerExternalId,
    DuplicatePair,
    PostalAddress,
)

# Callables ``hook(customer=..., acting_user=...)`` run inside the erasure's transaction, for the
# free text other apps keep about a customer (interaction summaries, messages). DESIGN.md section 3:
# a lower app lets a higher one react through a registry, never by importing it.
ERASE_HOOKS: list[Callable[..., None]] = []

EXPORT_VERSION = 1


def customer_keyed_models() -> list[type[models.Model]]:
    """Every concrete model, in every installed app, with a foreign key to ``Customer`` (plus Customer)."""
    found = [Customer]
    for model in apps.get_models():
        if model is Customer or model._meta.proxy or not model._meta.managed:
            continue
        if _customer_foreign_keys(model):
            found.append(model)
    return found


def _customer_foreign_keys(model) -> list[models.ForeignKey]:
    return [f for f in model._meta.fields if isinstance(f, models.ForeignKey) and f.related_model is Customer]


def _rows_of(model, customer: Customer) -> list[dict]:
    if model is Customer:
        # The customer, and the tombstones of the duplicates merged into them (the same person).
        condition = Q(pk=customer.pk) | Q(merged_into=customer)
    else:
        condition = Q()
        for field in _customer_foreign_keys(model):
            condition |= Q(**{field.name: customer})
    names = [field.attname for field in model._meta.concrete_fields]
    rows = list(model.objects.filter(condition).order_by("pk").values(*names))
    # Plain JSON types (dates as ISO strings, decimals as strings), the same in the JSON and the CSVs.
    return json.loads(json.dumps(rows, cls=DjangoJSONEncoder))


def _collect(customer: Customer) -> dict:
    return {
        "format": "relais.customer-export",
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "customer": {"id": customer.pk, "account_number": customer.account_number},
        "tables": {model._meta.label: _rows_of(model, customer) for model in customer_keyed_models()},
    }


def history_event_record(*, customer: Customer, label: str) -> None:
    """Append a labelled event (``gdpr.export``, ``gdpr.erase``) to the customer's history.

    It copies the customer's current tracked values, like pghistory's own events, and is linked to
    the pghistory context opened by the caller (who, through which channel).
    """
    event_model = apps.get_model("customers", "CustomerEvent")
    columns = [f.column for f in event_model._meta.concrete_fields if not f.name.startswith("pgh_")]
    column_list = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {event_model._meta.db_table}
                ({column_list}, pgh_context_id, pgh_created_at, pgh_label, pgh_obj_id)
            SELECT {column_list}, _pgh_attach_context(), NOW(), %s, id FROM customers_customer WHERE id = %s
            """,  # noqa: S608 - identifiers come from the model, values are parameters
            [label, customer.pk],
        )


@transaction.atomic
def _audited_export(*, customer: Customer, acting_user, source: str, export_format: str) -> dict:
    data = _collect(customer)
    with pghistory.context(
        user=getattr(acting_user, "pk", None), channel=str(source), action="gdpr_export", format=export_format
    ):
        history_event_record(customer=customer, label="gdpr.export")
    return data


def customer_export_data(*, customer: Customer, acting_user=None, source: str = RecordSource.AGENT) -> dict:
    """Return everything Relais holds about ``customer`` as a JSON-ready dict, and record the export.

    ``tables`` maps each customer-keyed model's label (``customers.Order``, ``customers.CustomerEvent``
    ...) to its rows (all concrete columns). The export is recorded in the customer's history as a
    ``gdpr.export`` event with who asked, in the same transaction as the read.
    """
    return _audited_export(customer=customer, acting_user=acting_user, source=source, export_format="json")


def customer_export_zip(*, customer: Customer, acting_user=None, source: str = RecordSource.AGENT) -> bytes:
    """Return a ZIP of one CSV per table (``customers.Order.csv``...) and ``customer.json``; recorded as above.

    The CSV files follow ``crm.spreadsheet`` (formulas neutralised; ``;`` and a BOM for a French user).
    """
    data = _audited_export(customer=customer, acting_user=acting_user, source=source, export_format="zip")
    dialect = csv_dialect(get_language())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", json.dumps(data, indent=2, ensure_ascii=False))
        for label, rows in data["tables"].items():
            model = apps.get_model(label)
            header = [field.attname for field in model._meta.concrete_fields]
            text = io.StringIO()
            writer = csv.writer(text, delimiter=dialect.delimiter)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_csv_value(row.get(name)) for name in header])
            archive.writestr(f"{label}.csv", dialect.bom + text.getvalue())
    return buffer.getvalue()


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return csv_cell(value)


# -- Erasure -----------------------------------------------------------------------------------


def _postcode_area(postcode: str, country: str) -> str:
    """The département of a French postcode (2 digits, 3 overseas); nothing for other countries."""
    if country != "FR" or not postcode:
        return ""
    return postcode[:3] if postcode.startswith(("97", "98")) else postcode[:2]


def _erase_one(customer: Customer, *, now) -> None:
    ContactPoint.objects.filter(customer=customer).delete()
    CustomerExternalId.objects.filter(customer=customer).delete()
    for address in PostalAddress.objects.filter(customer=customer):
        area = _postcode_area(address.postcode, address.country)
        city = address.city.upper()[:38]
        PostalAddress.objects.filter(pk=address.pk).update(
            line1="",
            line2="",
            line3="",
            line4="",
            line5="",
            line6=" ".join(f"{area} {city}".split())[:38],
            postcode=area,
            updated_at=now,
        )
    with connection.cursor() as cursor:
        # The ledger refuses UPDATE unless the transaction declares this maintenance; the trigger then
        # only lets the proof's text, IP and user agent change (decisions and dates stay, for statistics).
        cursor.execute("SET LOCAL relais.consent_maintenance = 'erase'")
        Consent.objects.filter(customer=customer).update(proof_text="", ip_address=None, user_agent="")
        cursor.execute("SET LOCAL relais.consent_maintenance = ''")
    DuplicatePair.objects.filter(Q(customer_low=customer) | Q(customer_high=customer)).update(reasons=[])
    Customer.objects.filter(pk=customer.pk).update(
        title="",
        given_name="",
        family_name="",
        company_name="",
        birth_date=None,
        tags=[],
        attributes={},
        notes="",
        anonymised_at=now,
        retention_flagged_at=None,
        updated_at=now,
    )


HISTORY_ERASE_SQL = [
    # The customer's own history: every personal value blanked, the stage and dates kept.
    """
    UPDATE customers_customerevent
       SET title = '', given_name = '', family_name = '', company_name = '', birth_date = NULL,
           tags = '{}', attributes = '{}'::jsonb, notes = ''
     WHERE pgh_obj_id = ANY(%(ids)s)
    """,
    # Contact points and addresses: the events carry the customer at the time, and a merge may have
    # moved a row from a tombstone, so the rows are found by either link.
    """
    UPDATE customers_contactpointevent SET value = '', label = ''
     WHERE customer_id = ANY(%(ids)s)
        OR pgh_obj_id IN (SELECT pgh_obj_id FROM customers_contactpointevent WHERE customer_id = ANY(%(ids)s))
    """,
    """
    UPDATE customers_postaladdressevent
       SET line1 = '', line2 = '', line3 = '', line4 = '', line5 = '', line6 = '', postcode = ''
     WHERE customer_id = ANY(%(ids)s)
        OR pgh_obj_id IN (SELECT pgh_obj_id FROM customers_postaladdressevent WHERE customer_id = ANY(%(ids)s))
    """,
]


@transaction.atomic
def customer_erase(*, customer: Customer, acting_user, source: str = RecordSource.AGENT) -> Customer:
    """Irreversibly anonymise the person behind ``customer`` (right to erasure); return the customer.

    Erased: names, title, birth date, notes, tags, custom attributes; every contact point and external
    id (deleted); address lines 1-5 (blank), the postcode cut to the département and the city kept, so
    sales by area still add up; the consent proofs' text, IP address and user agent; duplicate-finder
    reasons; and the same values in the history tables. The same is done to the tombstones of
    duplicates merged into this customer. Kept, for statistics and accounting: the account number,
    stage, language, owner, orders, contracts, invoices (amounts and dates) and the consent decisions.

    Sets ``anonymised_at``; the history records a ``gdpr.erase`` event with who did it and through
    which channel, in the same transaction. Raises ``ApplicationError`` if already anonymised.
    """
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.anonymised_at is not None:
        raise ApplicationError("already_anonymised", _("This customer was already anonymised."), status_code=409)
    tombstones = list(Customer.objects.select_for_update().filter(merged_into=locked, anonymised_at__isnull=True))
    now = timezone.now()
    with pghistory.context(user=getattr(acting_user, "pk", None), channel=str(source), action="gdpr_erase"):
        for person in [*tombstones, locked]:
            _erase_one(person, now=now)
        for hook in ERASE_HOOKS:
            hook(customer=locked, acting_user=acting_user)
        ids = [person.pk for person in [*tombstones, locked]]
        with connection.cursor() as cursor:
            for statement in HISTORY_ERASE_SQL:
                cursor.execute(statement, {"ids": ids})
        history_event_record(customer=locked, label="gdpr.erase")
    locked.refresh_from_db()
    return locked
