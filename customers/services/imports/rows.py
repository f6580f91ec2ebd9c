"""The row-by-row import path of orders and contracts: each row in its own transaction.

(Customers, whatever the size of the file, go through ``bulk``: one path, one identity rule.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from customers.choices import ContactKind
from customers.models import (
    ContactPoint,
    Contract,
    Customer,
    CustomerExternalId,
    ImportJob,
    ImportMapping,
    Order,
)
from customers.services.imports.validation import RowErrors, backoffice_row_parse

Report = Callable[[int, str, str, str], None]


def _reported(number: int, errors: RowErrors, report: Report) -> bool:
    for name, value, reason in errors.items:
        report(number, name, value, reason)
    return bool(errors)


def _owner_of(*, source: str, row: dict) -> Customer | None:
    if row["customer_external_id"]:
        holder = CustomerExternalId.objects.filter(source=source, value=row["customer_external_id"]).first()
        return holder.customer if holder else None
    if row["account_number"]:
        return Customer.objects.filter(account_number=row["account_number"].upper()).first()
    ids = set(
        ContactPoint.objects.filter(
            kind=ContactKind.EMAIL, value=row["customer_email"].strip().lower(), customer__merged_into__isnull=True
        ).values_list("customer_id", flat=True)
    )
    return Customer.objects.get(pk=ids.pop()) if len(ids) == 1 else None


def backoffice_import_rows(
    *, job: ImportJob, rows: Iterable[tuple[int, dict]], report: Report, dry_run: bool, preview: list | None = None
) -> tuple[int, int]:
    """Upsert orders or contracts by (source, external id), one transaction per row; ``(created, updated)``."""
    model = Order if job.kind == ImportMapping.Kind.ORDERS else Contract
    created = updated = 0
    seen: dict[str, int] = {}
    for number, values in rows:
        row, errors = backoffice_row_parse(job.kind, values)
        if _reported(number, errors, report):
            continue
        if row["external_id"] in seen:
            report(
                number,
                "number",
                row["external_id"],
                _("Duplicate of row %(row)d in this file.") % {"row": seen[row["external_id"]]},
            )
            continue
        seen[row["external_id"]] = number
        customer = _owner_of(source=job.source, row=row)
        if customer is None:
            column = next(n for n in ("customer_external_id", "account_number", "customer_email") if row[n])
            report(number, column, row[column], _("No customer (or several) matches this reference."))
            continue
        existing = model.objects.filter(source=job.source, external_id=row["external_id"]).first()
        if existing is not None and existing.customer_id != customer.pk:
            report(
                number,
                "number",
                row["external_id"],
                _("This id already belongs to customer %(account)s.") % {"account": existing.customer.account_number},
            )
            continue
        fields = {k: v for k, v in row.items() if k not in {"customer_external_id", "account_number", "customer_email"}}
        if preview is not None and len(preview) < 20:
            preview.append(
                {
                    "row": number,
                    "action": "update" if existing else "create",
                    "account_number": customer.account_number,
                    **fields,
                }
            )
        if dry_run:
            created, updated = created + (existing is None), updated + (existing is not None)
            continue
        try:
            with transaction.atomic():
                model.objects.update_or_create(
                    customer=customer, source=job.source, external_id=row["external_id"], defaults=fields
                )
        except IntegrityError as error:
            report(number, "", "", str(error).splitlines()[0])
            continue
        created, updated = created + (existing is None), updated + (existing is not None)
    return created, updated
