"""Upserts of the customer-keyed back office: orders (with their lines), contracts and invoices."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from customers.choices import RecordSource
from customers.models import Contract, Invoice, Order, OrderLine, Product
from customers.services.backoffice._common import (
    CONTRACT_FIELDS,
    ERROR,
    INVOICE_FIELDS,
    LINE_FIELDS,
    ORDER_FIELDS,
    UNCHANGED,
    UPDATED,
    UpsertResult,
    _bulk_save,
    _compare,
    _default_currency,
    _error,
    _existing_by_key,
    _insert_from_arrays,
    _keyed_rows,
    _reject_duplicate_keys,
    _results,
    _Row,
    _single,
    _write,
    bulk_limit_check,
)

# --- orders ------------------------------------------------------------------------------------------------------


def _order_lines(record: dict, products: dict[str, Product]) -> tuple[list[dict], dict]:
    lines, errors = [], {}
    for number, line in enumerate(record.get("lines") or []):
        sku = line.get("sku") or ""
        product = products.get(sku) if sku else None
        label = line.get("label") or (product.name if product else sku)
        if not label:
            errors |= _error(
                f"lines.{number}.label", "required", _("Give the line's label or the SKU of a known product.")
            )
            continue
        quantity = line.get("quantity", Decimal("1"))
        unit_price = line.get("unit_price", product.price if product else Decimal("0"))
        amount = line.get("amount")
        if amount is None:
            amount = (quantity * unit_price).quantize(Decimal("0.01"))
        lines.append(
            {
                "product_id": product.pk if product else None,
                "sku": sku,
                "label": label,
                "quantity": quantity,
                "unit_price": unit_price,
                "amount": amount,
            }
        )
    return lines, errors


def _order_write(rows: list[_Row]) -> dict[int, int]:
    ids = _bulk_save(Order, rows, ORDER_FIELDS)
    replaced = [row for row in rows if row.existing is not None]
    if replaced:
        OrderLine.objects.filter(
            customer_id__in={row.customer_id for row in replaced}, order_id__in=[row.existing.pk for row in replaced]
        ).delete()
    lines = [
        OrderLine(customer_id=row.customer_id, order_id=ids[row.index], **line) for row in rows for line in row.lines
    ]
    if lines:
        _insert_from_arrays(OrderLine, lines, ["customer_id", "order_id", *LINE_FIELDS])
    return ids


@transaction.atomic
def order_bulk_upsert(*, records: list[dict], acting_user=None, source: str = RecordSource.API) -> list[UpsertResult]:
    """Create or update orders by (customer, source, external id); each order's lines are replaced.

    ``records`` are validated order dicts (see ``customers.api.backoffice_serializers``); each names its
    customer by Relais id, account number or the customer's own external id. Returns one result per
    record; a record whose customer is unknown or whose line is incomplete is reported and not written.
    An order's total defaults to the sum of its lines.
    """
    bulk_limit_check(len(records))
    rows = _keyed_rows(records)
    skus = {line["sku"] for record in records for line in record.get("lines") or [] if line.get("sku")}
    products = {product.sku: product for product in Product.objects.filter(sku__in=skus)} if skus else {}
    existing = _existing_by_key(Order, rows)
    existing_lines: dict[int, list[tuple]] = {}
    if existing:
        orders = list(existing.values())
        line_rows = (
            OrderLine.objects.filter(
                customer_id__in={order.customer_id for order in orders}, order_id__in=[order.pk for order in orders]
            )
            .order_by("order_id", "id")
            .values_list("order_id", *LINE_FIELDS)
        )
        for order_id, *values in line_rows:
            existing_lines.setdefault(order_id, []).append(tuple(values))
    for row, record in zip(rows, records, strict=True):
        if row.status == ERROR:
            continue
        row.lines, errors = _order_lines(record, products)
        if errors:
            row.status, row.errors = ERROR, errors
            continue
        values = {name: record.get(name) for name in ORDER_FIELDS}
        values["number"] = record.get("number") or record["external_id"]
        values["store"] = record.get("store") or ""
        if values["total_amount"] is None:
            values["total_amount"] = sum((line["amount"] for line in row.lines), Decimal("0"))
        row.values = {name: value for name, value in values.items() if value is not None or name.endswith("_at")}
        row.values.setdefault("status", Order.Status.PLACED)
        row.values.setdefault("sales_channel", Order.SalesChannel.WEB)
        row.values.setdefault("currency", _default_currency())
        row.existing = existing.get(row.key)
        _compare(row, ORDER_FIELDS)
        if row.status == UNCHANGED:
            new_lines = [tuple(line[name] for name in LINE_FIELDS) for line in row.lines]
            if new_lines != existing_lines.get(row.existing.pk, []):
                row.status = UPDATED
    _reject_duplicate_keys(rows)
    _write(rows, _order_write)
    return _results(rows)


def order_upsert(*, data: dict, acting_user=None, source: str = RecordSource.API) -> UpsertResult:
    """Create or update one order and replace its lines; raises ``UpsertRejected`` if it is refused."""
    return _single(order_bulk_upsert(records=[data], acting_user=acting_user, source=source))


# --- contracts and invoices ---------------------------------------------------------------------------------


@transaction.atomic
def contract_bulk_upsert(
    *, records: list[dict], acting_user=None, source: str = RecordSource.API
) -> list[UpsertResult]:
    """Create or update contracts by (customer, source, external id); one result per record, in order."""
    bulk_limit_check(len(records))
    rows = _keyed_rows(records)
    existing = _existing_by_key(Contract, rows)
    for row, record in zip(rows, records, strict=True):
        if row.status == ERROR:
            continue
        end_date, start_date = record.get("end_date"), record["start_date"]
        if end_date and end_date < start_date:
            row.status = ERROR
            row.errors = _error("end_date", "invalid_date", _("The contract cannot end before it starts."))
            continue
        row.values = {
            "number": record.get("number") or record["external_id"],
            "plan": record["plan"],
            "status": record.get("status") or Contract.Status.ACTIVE,
            "start_date": start_date,
            "end_date": end_date,
            "monthly_amount": record.get("monthly_amount", Decimal("0")),
            "currency": record.get("currency") or _default_currency(),
        }
        row.existing = existing.get(row.key)
        _compare(row, CONTRACT_FIELDS)
    _reject_duplicate_keys(rows)
    _write(rows, lambda pending: _bulk_save(Contract, pending, CONTRACT_FIELDS))
    return _results(rows)


def contract_upsert(*, data: dict, acting_user=None, source: str = RecordSource.API) -> UpsertResult:
    """Create or update one contract; raises ``UpsertRejected`` if it is refused."""
    return _single(contract_bulk_upsert(records=[data], acting_user=acting_user, source=source))


def _linked_ids(model, rows: list[_Row], records: list[dict], name: str) -> dict[tuple, int]:
    wanted = {
        (row.customer_id, record["source"], record[name])
        for row, record in zip(rows, records, strict=True)
        if row.status != ERROR and record.get(name)
    }
    if not wanted:
        return {}
    found = model.objects.filter(
        customer_id__in={key[0] for key in wanted}, external_id__in={key[2] for key in wanted}
    ).values_list("customer_id", "source", "external_id", "pk")
    return {(customer_id, src, ext): pk for customer_id, src, ext, pk in found}


@transaction.atomic
def invoice_bulk_upsert(*, records: list[dict], acting_user=None, source: str = RecordSource.API) -> list[UpsertResult]:
    """Create or update invoices by (customer, source, external id), linked to the customer's order or
    contract of the same source when ``order_external_id`` / ``contract_external_id`` is given."""
    bulk_limit_check(len(records))
    rows = _keyed_rows(records)
    existing = _existing_by_key(Invoice, rows)
    orders = _linked_ids(Order, rows, records, "order_external_id")
    contracts = _linked_ids(Contract, rows, records, "contract_external_id")
    for row, record in zip(rows, records, strict=True):
        if row.status == ERROR:
            continue
        errors: dict = {}
        links = {}
        for name, found, label in (("order", orders, _("order")), ("contract", contracts, _("contract"))):
            reference = record.get(f"{name}_external_id")
            links[f"{name}_id"] = found.get((row.customer_id, record["source"], reference)) if reference else None
            if reference and links[f"{name}_id"] is None:
                errors |= _error(
                    f"{name}_external_id",
                    "not_found",
                    _("This customer has no %(kind)s with %(source)s id “%(value)s”.")
                    % {"kind": label, "source": record["source"], "value": reference},
                )
        if record["due_on"] < record["issued_on"]:
            errors |= _error("due_on", "invalid_date", _("An invoice cannot fall due before it is issued."))
        if errors:
            row.status, row.errors = ERROR, errors
            continue
        row.values = {
            "number": record.get("number") or record["external_id"],
            "status": record.get("status") or Invoice.Status.OPEN,
            "amount": record["amount"],
            "currency": record.get("currency") or _default_currency(),
            "issued_on": record["issued_on"],
            "due_on": record["due_on"],
            "paid_on": record.get("paid_on"),
            **links,
        }
        row.existing = existing.get(row.key)
        _compare(row, INVOICE_FIELDS)
    _reject_duplicate_keys(rows)
    _write(rows, lambda pending: _bulk_save(Invoice, pending, INVOICE_FIELDS))
    return _results(rows)


def invoice_upsert(*, data: dict, acting_user=None, source: str = RecordSource.API) -> UpsertResult:
    """Create or update one invoice; raises ``UpsertRejected`` if it is refused."""
    return _single(invoice_bulk_upsert(records=[data], acting_user=acting_user, source=source))
