"""Upserts of customers: identity through ``CustomerExternalId``, writes through ``customers.services.records``."""

from __future__ import annotations

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from customers.choices import ContactKind, RecordSource
from customers.models import ContactPoint, Customer, CustomerExternalId, PostalAddress
from customers.services import records
from customers.services.backoffice._common import (
    CREATED,
    CUSTOMER_IDENTITY_FIELDS,
    ERROR,
    UNCHANGED,
    UPDATED,
    UpsertResult,
    _application_errors,
    _error,
    _single,
    bulk_limit_check,
)

# --- customers (identity through CustomerExternalId; writes through customers.services.records) -----------


def _same_identity(customer: Customer, name: str, value) -> bool:
    current = customer.owner_id if name == "owner" else getattr(customer, name)
    if name == "owner":
        value = getattr(value, "pk", value)
    elif name in ("given_name", "family_name", "company_name"):
        value = " ".join((value or "").split())
    elif name == "tags":
        value = sorted({" ".join(str(tag).split()).lower()[:50] for tag in value or [] if str(tag).strip()})
    elif name == "attributes":
        value = records.attributes_clean(value)
    return current == value


def _customer_update_existing(*, customer: Customer, data: dict, acting_user, source: str) -> str:
    if not customer.is_live:
        raise ApplicationError("not_live", _("This customer was merged or anonymised and cannot be changed."))
    changes = {
        name: data[name]
        for name in CUSTOMER_IDENTITY_FIELDS
        if name in data and not _same_identity(customer, name, data[name])
    }
    changed = bool(changes)
    if changes:
        records.customer_update(customer=customer, acting_user=acting_user, source=source, **changes)
    known = set(ContactPoint.objects.filter(customer=customer).values_list("kind", "value"))
    for kind, values, prefix in (
        (ContactKind.EMAIL, data.get("emails") or [], "emails"),
        (ContactKind.PHONE, data.get("phones") or [], "phones"),
    ):
        for number, value in enumerate(values):
            try:
                normalised_kind, normalised = records.contact_value_normalise(kind, value)
            except ApplicationError as error:
                error.field = f"{prefix}.{number}"
                raise
            if (normalised_kind, normalised) not in known:
                records.contact_point_add(
                    customer=customer, kind=kind, value=value, acting_user=acting_user, source=source
                )
                changed = True
    addresses = {
        tuple(row)
        for row in PostalAddress.objects.filter(customer=customer).values_list(
            "line2", "line3", "line4", "line5", "postcode", "city", "country"
        )
    }
    for number, address in enumerate(data.get("addresses") or []):
        try:
            lines = records.address_lines(customer=customer, data=address)
        except ApplicationError as error:
            error.field = f"addresses.{number}.{error.field}" if error.field else f"addresses.{number}"
            raise
        if (
            tuple(lines[name] for name in ("line2", "line3", "line4", "line5", "postcode", "city", "country"))
            not in addresses
        ):
            records.address_add(customer=customer, data=address, acting_user=acting_user, source=source)
            changed = True
    return UPDATED if changed else UNCHANGED


def _customer_upsert_one(*, index: int, data: dict, acting_user, source: str) -> UpsertResult:
    system, value = data["source"], data["external_id"]
    holder = CustomerExternalId.objects.filter(source=system, value=value).select_related("customer").first()
    if holder is None:
        values = {name: data[name] for name in CUSTOMER_IDENTITY_FIELDS if name in data}
        extra = dict(data.get("external_ids") or {})
        extra[system] = value
        customer = records.customer_create(
            data=records.CustomerInput(
                **values,
                emails=list(data.get("emails") or []),
                phones=list(data.get("phones") or []),
                addresses=list(data.get("addresses") or []),
                external_ids=extra,
            ),
            acting_user=acting_user,
            source=source,
        )
        return UpsertResult(index=index, status=CREATED, id=customer.pk)
    customer = holder.customer
    if customer.merged_into_id is not None:
        from customers.access import customer_survivor

        customer = customer_survivor(customer)
    status = _customer_update_existing(customer=customer, data=data, acting_user=acting_user, source=source)
    return UpsertResult(index=index, status=status, id=customer.pk)


@transaction.atomic
def customer_bulk_upsert(
    *, records: list[dict], acting_user=None, source: str = RecordSource.API
) -> list[UpsertResult]:
    """Create or update customers found by ``source`` + ``external_id`` (``CustomerExternalId``).

    A new customer goes through ``records.customer_create``; a known one gets the identity fields the
    record carries (``records.customer_update``) and the emails, phones and addresses it lacks (none
    is removed). A customer merged away is updated through its survivor. Each record runs in its own
    savepoint, through the same services as every other entry point (history included), so this is the
    one bulk path that writes record by record.
    """
    bulk_limit_check(len(records))
    results = []
    seen: set[tuple[str, str]] = set()
    for index, data in enumerate(records):
        key = (data["source"], data["external_id"])
        if key in seen:
            results.append(
                UpsertResult(
                    index=index,
                    status=ERROR,
                    errors=_error(
                        "external_id",
                        "duplicate_in_request",
                        _("This external id appears earlier in the same request."),
                    ),
                )
            )
            continue
        seen.add(key)
        try:
            with transaction.atomic():
                results.append(_customer_upsert_one(index=index, data=data, acting_user=acting_user, source=source))
        except ApplicationError as error:
            results.append(UpsertResult(index=index, status=ERROR, errors=_application_errors(error)))
        except DatabaseError as error:
            results.append(
                UpsertResult(
                    index=index,
                    status=ERROR,
                    errors=_error("non_field_errors", "database_error", str(error).strip()[:300]),
                )
            )
    return results


def customer_upsert(*, data: dict, acting_user=None, source: str = RecordSource.API) -> UpsertResult:
    """Create or update one customer by external id; raises ``UpsertRejected`` if it is refused."""
    return _single(customer_bulk_upsert(records=[data], acting_user=acting_user, source=source))
