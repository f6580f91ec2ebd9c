"""Upserts of customers: identity by the one identity rule, writes through ``customers.services.records``."""

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
from customers.services.duplicates import duplicate_pairs_add
from customers.services.identity import Evidence, Outcome, evidence_build, identity_resolve_many
from customers.services.identity.batch import DUPLICATE, WRITE, BatchRow, identity_within_batch

# --- customers (identity by customers.services.identity; writes through customers.services.records) ------


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


def customer_evidence(data: dict) -> Evidence:
    """The identity evidence of one upsert record: the same fields an import row gives the rule.

    Its first email, first phone and first address stand for the import's email, phone and address
    columns. Raises ``ApplicationError`` naming the field (``emails.0``, ``phones.0``) of a bad value.
    """
    emails, phones, addresses = data.get("emails") or [], data.get("phones") or [], data.get("addresses") or []
    address = addresses[0] if addresses else None
    try:
        return evidence_build(
            email=emails[0] if emails else None,
            phone=phones[0] if phones else None,
            external_id=(data["source"], data["external_id"]),
            given_name=data.get("given_name"),
            family_name=data.get("family_name"),
            company_name=data.get("company_name"),
            birth_date=data.get("birth_date"),
            postcode=address.postcode if address else None,
            street=address.line4 if address else None,
        )
    except ApplicationError as error:
        error.field = {"email": "emails.0", "phone": "phones.0"}.get(error.field or "", error.field)
        raise


def _customer_create(*, data: dict, acting_user, source: str) -> Customer:
    values = {name: data[name] for name in CUSTOMER_IDENTITY_FIELDS if name in data}
    extra = dict(data.get("external_ids") or {})
    extra[data["source"]] = data["external_id"]
    return records.customer_create(
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


def _customer_write(*, row: BatchRow, data: dict, acting_user, source: str) -> UpsertResult:
    decision = row.decision
    if decision.outcome != Outcome.MATCH:
        customer = _customer_create(data=data, acting_user=acting_user, source=source)
        return UpsertResult(index=row.number, status=CREATED, id=customer.pk)
    customer = Customer.objects.get(pk=decision.customer_id)
    status = _customer_update_existing(customer=customer, data=data, acting_user=acting_user, source=source)
    held = CustomerExternalId.objects.filter(customer=customer, source=data["source"], value=data["external_id"])
    if not held.exists():
        # Matched by another identifier: from now on the source's id finds this customer directly.
        records.external_id_set(customer=customer, source=data["source"], value=data["external_id"])
        status = UPDATED
    return UpsertResult(index=row.number, status=status, id=customer.pk)


def _duplicate_result(row: BatchRow) -> UpsertResult:
    if row.action == DUPLICATE:
        message = _("The same person as record %(index)d of this request; only that record is written.")
    else:
        message = _("The same customer as record %(index)d of this request; only that record is written.")
    field = "external_id" if "same_external_id" in row.reasons else "non_field_errors"
    return UpsertResult(
        index=row.number,
        status=ERROR,
        errors=_error(field, "duplicate_in_request", message % {"index": row.of_row}),
    )


@transaction.atomic
def customer_bulk_upsert(
    *, records: list[dict], acting_user=None, source: str = RecordSource.API
) -> list[UpsertResult]:
    """Create or update customers by the identity rule, the same decisions the import makes.

    Every record is weighed against the database as it was before the request
    (``identity_resolve_many``: the source's external id first, then email, phone, name with birth
    date or postcode, a conflicting identifier vetoing a name match) and against the other records
    (``identity_within_batch``): a record that is the same person as an earlier one is refused as
    ``duplicate_in_request``, whatever their order. A ``match`` updates that customer (the identity
    fields the record carries, the emails, phones, addresses and the external id it lacks; none is
    removed); ``new`` creates one; ``possible_duplicate`` creates one and records a pair for review.
    Each record runs in its own savepoint through the record services (history included).
    """
    bulk_limit_check(len(records))
    results: dict[int, UpsertResult] = {}
    rows = []
    for index, data in enumerate(records):
        try:
            evidence = customer_evidence(data)
        except ApplicationError as error:
            results[index] = UpsertResult(index=index, status=ERROR, errors=_application_errors(error))
            continue
        rows.append((index, evidence))
    decisions = identity_resolve_many([evidence for _index, evidence in rows])
    batch = identity_within_batch(
        [(index, evidence, decision) for (index, evidence), decision in zip(rows, decisions, strict=True)]
    )
    for row in batch.rows:
        if row.action != WRITE:
            results[row.number] = _duplicate_result(row)
            continue
        try:
            with transaction.atomic():
                results[row.number] = _customer_write(
                    row=row, data=records[row.number], acting_user=acting_user, source=source
                )
        except ApplicationError as error:
            results[row.number] = UpsertResult(index=row.number, status=ERROR, errors=_application_errors(error))
        except DatabaseError as error:
            results[row.number] = UpsertResult(
                index=row.number,
                status=ERROR,
                errors=_error("non_field_errors", "database_error", str(error).strip()[:300]),
            )
    created = {index: result.id for index, result in results.items() if result.status == CREATED}
    pairs = [
        (created[row.number], other, row.decision.reasons or _first_reasons(row))
        for row in batch.rows
        if row.number in created and row.decision.outcome == Outcome.POSSIBLE_DUPLICATE
        for other in row.decision.review_ids
    ]
    pairs += [
        (created[a], created[b], reasons) for a, b, reasons in batch.review_pairs if a in created and b in created
    ]
    if pairs:
        duplicate_pairs_add(pairs)
    return [results[index] for index in range(len(records))]


def _first_reasons(row: BatchRow) -> list[str]:
    review = row.decision.review_ids
    return next((a.reasons for a in row.decision.assessments if a.known.id in review), [])


def customer_upsert(*, data: dict, acting_user=None, source: str = RecordSource.API) -> UpsertResult:
    """Create or update one customer by external id; raises ``UpsertRejected`` if it is refused."""
    return _single(customer_bulk_upsert(records=[data], acting_user=acting_user, source=source))
