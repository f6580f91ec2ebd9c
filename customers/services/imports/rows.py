"""The row-by-row import path (small files, orders and contracts): each row in its own transaction.

Customers are written only through ``customers.services.records``; a row that fails rolls back alone,
so a rejected row never half-writes a customer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from customers.choices import ContactKind, RecordSource
from customers.models import (
    ContactPoint,
    Contract,
    Customer,
    CustomerExternalId,
    ImportJob,
    ImportMapping,
    Order,
    PostalAddress,
)
from customers.services.imports.validation import RowErrors, backoffice_row_parse, customer_row_parse
from customers.services.records import (
    AddressInput,
    CustomerInput,
    address_add,
    contact_point_add,
    customer_create,
    customer_update,
    external_id_set,
)

Report = Callable[[int, str, str, str], None]


def customer_resolve(*, source: str, row: dict) -> tuple[Customer | None, str | None]:
    """The existing customer a row is about, or ``(None, reason)`` when the match is ambiguous.

    Uses ``customers.services.identity.identity_resolve`` when it exists; until then an exact match on
    the source's external id, then on the normalised email (live customers only).
    """
    try:
        from customers.services.identity import identity_resolve
    except ImportError:
        identity_resolve = None
    if identity_resolve is not None:
        result = identity_resolve(
            email=row["email"] or None,
            phone=row["phone"] or None,
            external_id=(source, row["external_id"]) if row["external_id"] else None,
            given_name=row["given_name"] or None,
            family_name=row["family_name"] or None,
            postcode=row["postcode"] or None,
        )
        if result.match is not None:
            return result.match, None
        if result.candidates:
            return None, _(
                "Not sure which customer this is (%(candidates)s): merge them, correct the row or give an id."
            ) % {
                "candidates": "; ".join(
                    f"{c.customer.account_number} ({', '.join(c.reasons)})" for c in result.candidates[:5]
                )
            }
        return None, None
    if row["external_id"]:
        holder = CustomerExternalId.objects.filter(source=source, value=row["external_id"]).select_related("customer")
        holder = holder.first()
        if holder is not None and holder.customer.is_live:
            return holder.customer, None
    if row["email"]:
        ids = set(
            ContactPoint.objects.filter(
                kind=ContactKind.EMAIL,
                value=row["email"],
                customer__merged_into__isnull=True,
                customer__anonymised_at__isnull=True,
            ).values_list("customer_id", flat=True)
        )
        if len(ids) == 1:
            return Customer.objects.get(pk=ids.pop()), None
        if len(ids) > 1:
            return None, _ambiguous(Customer.objects.filter(pk__in=ids))
    return None, None


def _ambiguous(customers: Iterable) -> str:
    accounts = ", ".join(sorted(getattr(c, "account_number", str(c)) for c in customers)[:5])
    return _("Matches several customers (%(accounts)s); merge them or give an id.") % {"accounts": accounts}


def _customer_input(row: dict, *, source: str) -> CustomerInput:
    address = []
    if row["has_address"]:
        address = [
            AddressInput(
                city=row["city"],
                postcode=row["postcode"],
                country=row["country"],
                line2=row["line2"],
                line3=row["line3"],
                line4=row["line4"],
                line5=row["line5"],
            )
        ]
    return CustomerInput(
        given_name=row["given_name"],
        family_name=row["family_name"],
        company_name=row["company_name"],
        kind="company" if row["company_name"] and not (row["given_name"] or row["family_name"]) else "person",
        title=row["title"],
        birth_date=row["birth_date"],
        language=row["language"],
        stage=row["stage"],
        tags=row["tags"],
        notes=row["notes"],
        emails=[row["email"]] if row["email"] else [],
        phones=[row["phone"]] if row["phone"] else [],
        addresses=address,
        external_ids={source: row["external_id"]} if row["external_id"] else {},
    )


def _customer_merge_row(customer: Customer, row: dict, *, job: ImportJob) -> None:
    user, how = job.created_by, RecordSource.IMPORT
    changes = {
        name: row[name] for name in ("given_name", "family_name", "company_name", "title", "birth_date") if row[name]
    }
    if row["notes"]:
        changes["notes"] = "\n".join(part for part in (customer.notes, row["notes"]) if part)
    if row["tags"]:
        changes["tags"] = sorted(set(customer.tags) | set(row["tags"]))
    if row["stage_given"]:
        changes["stage"] = row["stage"]
    if changes:
        customer = customer_update(customer=customer, acting_user=user, source=how, **changes)
    if row["email"]:
        contact_point_add(customer=customer, kind=ContactKind.EMAIL, value=row["email"], acting_user=user, source=how)
    if row["phone"]:
        contact_point_add(customer=customer, kind=row["phone_kind"], value=row["phone"], acting_user=user, source=how)
    if (
        row["has_address"]
        and not PostalAddress.objects.filter(customer=customer, line4=row["line4"], postcode=row["postcode"]).exists()
    ):
        address_add(
            customer=customer, data=_customer_input(row, source=job.source).addresses[0], acting_user=user, source=how
        )
    if row["external_id"]:
        external_id_set(customer=customer, source=job.source, value=row["external_id"])


def customers_import_rows(
    *, job: ImportJob, rows: Iterable[tuple[int, dict]], report: Report, dry_run: bool, preview: list | None = None
) -> tuple[int, int]:
    """Import customer rows one transaction each; return ``(created, updated)`` (would-be, in a dry run)."""
    created = updated = 0
    seen: dict[tuple[str, str], int] = {}
    for number, values in rows:
        row, errors = customer_row_parse(values)
        row["stage_given"] = bool(values.get("stage"))
        if _reported(number, errors, report):
            continue
        keys = [(name, row[name]) for name in ("external_id", "email") if row[name]]
        first = next((seen[key] for key in keys if key in seen), None)
        if first is not None:
            name, value = next(key for key in keys if key in seen)
            report(number, name, value, _("Duplicate of row %(row)d in this file.") % {"row": first})
            continue
        seen.update(dict.fromkeys(keys, number))
        match, ambiguity = customer_resolve(source=job.source, row=row)
        if ambiguity:
            report(number, "email" if row["email"] else "family_name", row["email"] or row["family_name"], ambiguity)
            continue
        if preview is not None and len(preview) < 20:
            preview.append(
                {
                    "row": number,
                    "action": "update" if match else "create",
                    "account_number": match.account_number if match else "",
                    **row,
                }
            )
        if dry_run:
            created, updated = created + (match is None), updated + (match is not None)
            continue
        try:
            with transaction.atomic():
                if match is None:
                    customer_create(
                        data=_customer_input(row, source=job.source),
                        acting_user=job.created_by,
                        source=RecordSource.IMPORT,
                    )
                    created += 1
                else:
                    _customer_merge_row(match, row, job=job)
                    updated += 1
        except ApplicationError as error:
            report(number, error.field or "", "", error.message)
    return created, updated


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
