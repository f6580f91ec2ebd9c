"""Creating and changing customers, their contact points, addresses, consents and stages.

Every function takes keyword arguments, validates with ``customers.normalise`` and raises
``ApplicationError(code, message, field=...)`` for bad input, writes in one transaction, and records
who did it through which channel in the history (django-pghistory context).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pghistory
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from customers.choices import (
    Channel,
    ConsentSource,
    ConsentStatus,
    ContactKind,
    CustomerKind,
    PreferredChannel,
    Purpose,
    RecordSource,
    Stage,
    Title,
)
from customers.models import (
    AttributeDefinition,
    Consent,
    ContactPoint,
    Customer,
    CustomerExternalId,
    PostalAddress,
    StageChange,
)
from customers.normalise import (
    afnor_line,
    afnor_locality_line,
    email_normalise,
    french_postcode,
    phone_normalise,
)

EDITABLE_FIELDS = {
    "kind",
    "title",
    "given_name",
    "family_name",
    "company_name",
    "birth_date",
    "language",
    "owner",
    "preferred_channel",
    "tags",
    "attributes",
    "notes",
}


def customer_check_live(customer: Customer) -> None:
    """Refuse a write into a merged-away or anonymised record (``not_live``, 409).

    Checked on the instance the caller fetched (an import's hot path pays no extra query); a merge
    running at the same moment locks the customer rows, so a write it races lands before or after it.
    """
    if not customer.is_live:
        raise ApplicationError(
            "not_live", _("This customer was merged or anonymised and cannot be changed."), field="customer",
            status_code=409,
        )  # fmt: skip


def history_context(*, acting_user, source: str):
    """The pghistory context every service opens: who, and through which way (agent, api, import...)."""
    return pghistory.context(user=getattr(acting_user, "pk", None), channel=str(source))


@dataclass
class AddressInput:
    city: str
    postcode: str = ""
    country: str = "FR"
    line1: str = ""
    line2: str = ""
    line3: str = ""
    line4: str = ""
    line5: str = ""
    is_primary: bool = True
    valid_from: datetime.date | None = None


@dataclass
class CustomerInput:
    """What a new customer may be created with (forms, API and imports build one)."""

    given_name: str = ""
    family_name: str = ""
    company_name: str = ""
    kind: str = CustomerKind.PERSON
    title: str = ""
    birth_date: datetime.date | None = None
    language: str = "fr"
    stage: str = Stage.PROSPECT
    owner: object | None = None
    preferred_channel: str = ""
    tags: list[str] = field(default_factory=list)
    attributes: dict = field(default_factory=dict)
    notes: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    addresses: list[AddressInput] = field(default_factory=list)
    external_ids: dict[str, str] = field(default_factory=dict)


def _check_choice(value: str, choices, field_name: str) -> str:
    if value not in choices.values:
        allowed = ", ".join(v for v in choices.values if v)
        raise ApplicationError(
            "invalid_choice",
            _("“%(value)s” is not a valid %(field)s; use one of: %(allowed)s.")
            % {"value": value, "field": field_name.replace("_", " "), "allowed": allowed},
            field=field_name,
        )
    return value


def _clean_identity(values: dict) -> dict:
    cleaned = dict(values)
    for name in ("given_name", "family_name", "company_name"):
        if name in cleaned:
            cleaned[name] = " ".join((cleaned[name] or "").split())[:200]
    if "kind" in cleaned:
        _check_choice(cleaned["kind"], CustomerKind, "kind")
    if "title" in cleaned:
        _check_choice(cleaned["title"] or "", Title, "title")
    if "preferred_channel" in cleaned:
        _check_choice(cleaned["preferred_channel"] or "", PreferredChannel, "preferred_channel")
    if "language" in cleaned and cleaned["language"] not in {"fr", "en"}:
        raise ApplicationError("invalid_choice", _("Language must be “fr” or “en”."), field="language")
    birth_date = cleaned.get("birth_date")
    if birth_date and (birth_date > timezone.localdate() or birth_date.year < 1900):
        raise ApplicationError("invalid_date", _("The birth date must be in the past."), field="birth_date")
    if "tags" in cleaned:
        tags = sorted({" ".join(str(tag).split()).lower()[:50] for tag in cleaned["tags"] or [] if str(tag).strip()})
        cleaned["tags"] = tags
    return cleaned


def attributes_clean(values: dict | None) -> dict:
    """Check custom attributes against their definitions; return them typed for JSON storage."""
    values = values or {}
    definitions = {d.key: d for d in AttributeDefinition.objects.all()}
    cleaned: dict = {}
    for key, raw in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise ApplicationError(
                "unknown_attribute", _("“%(key)s” is not a defined custom attribute.") % {"key": key},
                field=f"attributes.{key}",
            )  # fmt: skip
        if raw in (None, ""):
            continue
        cleaned[key] = _attribute_value(definition, raw)
    for definition in definitions.values():
        if definition.is_required and definition.key not in cleaned:
            raise ApplicationError(
                "required", _("“%(label)s” is required.") % {"label": definition.display_label},
                field=f"attributes.{definition.key}",
            )  # fmt: skip
    return cleaned


def _attribute_value(definition: AttributeDefinition, raw):
    field_name = f"attributes.{definition.key}"
    kind = AttributeDefinition.Type
    try:
        if definition.type == kind.NUMBER:
            number = Decimal(str(raw).replace(",", "."))
            if not number.is_finite():
                raise InvalidOperation
            return float(number) if number % 1 else int(number)
        if definition.type == kind.DATE:
            return (raw if isinstance(raw, datetime.date) else datetime.date.fromisoformat(str(raw))).isoformat()
        if definition.type == kind.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in {"1", "true", "yes", "oui", "vrai"}:
                return True
            if word in {"0", "false", "no", "non", "faux"}:
                return False
            raise ValueError
    except (InvalidOperation, ValueError):
        raise ApplicationError(
            "invalid_attribute",
            _("“%(value)s” is not a valid %(type)s for “%(label)s”.")
            % {"value": raw, "type": definition.get_type_display().lower(), "label": definition.display_label},
            field=field_name,
        ) from None
    if definition.type == kind.CHOICE and str(raw) not in definition.choices:
        raise ApplicationError(
            "invalid_attribute",
            _("“%(value)s” is not one of the choices of “%(label)s”: %(choices)s.")
            % {"value": raw, "label": definition.display_label, "choices": ", ".join(definition.choices)},
            field=field_name,
        )
    return str(raw)[:500]


@transaction.atomic
def customer_create(*, data: CustomerInput, acting_user=None, source: str = RecordSource.AGENT) -> Customer:
    """Create a customer with their contact points, addresses and external ids; return it.

    All or nothing: a bad email, phone or address line raises ``ApplicationError`` and nothing is
    written. The first email, phone and address become primary. The stage's entry is recorded.
    """
    values = _clean_identity(
        {name: getattr(data, name) for name in EDITABLE_FIELDS if name not in {"attributes"}} | {"stage": data.stage}
    )
    _check_choice(data.stage, Stage, "stage")
    if not (values["given_name"] or values["family_name"] or values["company_name"]):
        raise ApplicationError("required", _("Give at least a name or a company name."), field="family_name")
    attributes = attributes_clean(data.attributes)
    with history_context(acting_user=acting_user, source=source):
        customer = Customer.objects.create(**values, attributes=attributes, created_via=source)
        StageChange.objects.create(customer=customer, stage=customer.stage, acting_user=acting_user, source=source)
        for email in data.emails:
            contact_point_add(customer=customer, kind=ContactKind.EMAIL, value=email, acting_user=acting_user,
                              source=source)  # fmt: skip
        for phone in data.phones:
            contact_point_add(customer=customer, kind=ContactKind.PHONE, value=phone, acting_user=acting_user,
                              source=source)  # fmt: skip
        for address in data.addresses:
            address_add(customer=customer, data=address, acting_user=acting_user, source=source)
        for system, value in data.external_ids.items():
            external_id_set(customer=customer, source=system, value=value)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, acting_user=None, source: str = RecordSource.AGENT, **changes) -> Customer:
    """Change identity fields, owner, tags, attributes or notes; ``stage`` goes through ``customer_change_stage``.

    Raises ``ApplicationError`` on an unknown field or a bad value; returns the saved customer.
    """
    unknown = set(changes) - EDITABLE_FIELDS - {"stage"}
    if unknown:
        raise ApplicationError(
            "unknown_field", _("Unknown field: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    if not customer.is_live:
        raise ApplicationError("not_live", _("This customer was merged or anonymised and cannot be changed."))
    stage = changes.pop("stage", None)
    values = _clean_identity(changes)
    if "attributes" in values:
        values["attributes"] = attributes_clean(values["attributes"])
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    with history_context(acting_user=acting_user, source=source):
        for name, value in values.items():
            setattr(locked, name, value)
        if not (locked.given_name or locked.family_name or locked.company_name):
            raise ApplicationError("required", _("Give at least a name or a company name."), field="family_name")
        locked.save()
        if stage is not None and stage != locked.stage:
            customer_change_stage(customer=locked, stage=stage, acting_user=acting_user, source=source)
    return locked


@transaction.atomic
def customer_change_stage(
    *,
    customer: Customer,
    stage: str,
    acting_user=None,
    source: str = RecordSource.AGENT,
    at: datetime.datetime | None = None,
) -> Customer:
    """Move the customer to ``stage`` and record when it was entered (no-op if already there)."""
    _check_choice(stage, Stage, "stage")
    if customer.stage == stage:
        return customer
    at = at or timezone.now()
    with history_context(acting_user=acting_user, source=source):
        StageChange.objects.create(customer=customer, stage=stage, previous_stage=customer.stage, entered_at=at,
                                   acting_user=acting_user, source=source)  # fmt: skip
        Customer.objects.filter(pk=customer.pk).update(stage=stage, stage_entered_at=at, updated_at=timezone.now())
    customer.stage, customer.stage_entered_at = stage, at
    return customer


def contact_value_normalise(kind: str, value: str) -> tuple[str, str]:
    """Return ``(kind, normalised value)``; phone numbers become ``mobile`` or ``phone`` by their type."""
    if kind == ContactKind.EMAIL:
        return kind, email_normalise(value)
    if kind in (ContactKind.PHONE, ContactKind.MOBILE):
        phone = phone_normalise(value)
        return (ContactKind.MOBILE if phone.is_mobile else ContactKind.PHONE), phone.e164
    if kind == ContactKind.SOCIAL:
        handle = (value or "").strip()
        if not handle:
            raise ApplicationError("required", _("Give the social handle."), field="value")
        return kind, handle[:254]
    raise ApplicationError("invalid_choice", _("Unknown contact kind “%(kind)s”.") % {"kind": kind}, field="kind")


@transaction.atomic
def contact_point_add(*, customer: Customer, kind: str, value: str, label: str = "", is_primary: bool | None = None,
                      is_verified: bool = False, social_network: str = "", acting_user=None,
                      source: str = RecordSource.AGENT) -> ContactPoint:  # fmt: skip
    """Add an email, phone or handle (normalised); adding one the customer already has returns it.

    The first of a kind becomes primary; ``is_primary=True`` moves the primary flag to this one.
    A merged-away or anonymised customer is refused (``not_live``).
    """
    customer_check_live(customer)
    try:
        kind, normalised = contact_value_normalise(kind, value)
    except ApplicationError as error:
        error.field = error.field or "value"
        raise
    with history_context(acting_user=acting_user, source=source):
        existing = ContactPoint.objects.filter(customer=customer, kind=kind, value=normalised).first()
        has_primary = ContactPoint.objects.filter(customer=customer, kind=kind, is_primary=True).exists()
        make_primary = is_primary or (is_primary is None and not has_primary)
        if make_primary:
            ContactPoint.objects.filter(customer=customer, kind=kind, is_primary=True).exclude(
                pk=getattr(existing, "pk", None)
            ).update(is_primary=False)
        if existing is not None:
            updates = {"is_verified": existing.is_verified or is_verified}
            if make_primary:
                updates["is_primary"] = True
            ContactPoint.objects.filter(pk=existing.pk).update(**updates)
            existing.refresh_from_db()
            return existing
        return ContactPoint.objects.create(
            customer=customer, kind=kind, value=normalised, raw_value=(value or "")[:254], label=label[:30],
            social_network=social_network[:30], is_primary=make_primary, is_verified=is_verified,
        )  # fmt: skip


@transaction.atomic
def contact_point_remove(*, contact_point: ContactPoint, acting_user=None, source: str = RecordSource.AGENT) -> None:
    """Delete a contact point; if it was primary, the oldest remaining one of its kind becomes primary."""
    with history_context(acting_user=acting_user, source=source):
        customer_id, kind, was_primary = contact_point.customer_id, contact_point.kind, contact_point.is_primary
        contact_point.delete()
        if was_primary:
            successor = ContactPoint.objects.filter(customer_id=customer_id, kind=kind).order_by("id").first()
            if successor:
                ContactPoint.objects.filter(pk=successor.pk).update(is_primary=True)


@transaction.atomic
def contact_point_mark_undeliverable(*, contact_point: ContactPoint, reason: str,
                                     source: str = RecordSource.SYSTEM) -> ContactPoint:  # fmt: skip
    """Flag a bounced address or unreachable number (campaigns then skip it); idempotent."""
    with history_context(acting_user=None, source=source):
        ContactPoint.objects.filter(pk=contact_point.pk, is_undeliverable=False).update(
            is_undeliverable=True, undeliverable_reason=reason[:200], undeliverable_at=timezone.now()
        )
    contact_point.refresh_from_db()
    return contact_point


def address_lines(*, customer: Customer, data: AddressInput) -> dict:
    """Validate an address by AFNOR NF Z10-011 and return the model's field values."""
    country = (data.country or "FR").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ApplicationError("invalid_country", _("Give the country as a two-letter code, e.g. FR."), field="country")
    city = " ".join((data.city or "").split())
    if not city:
        raise ApplicationError("required", _("Give the city."), field="city")
    postcode = french_postcode(data.postcode) if country == "FR" else " ".join((data.postcode or "").split())[:12]
    recipient = data.line1 or _recipient_line(customer)
    lines = {f"line{n}": afnor_line(getattr(data, f"line{n}") if n > 1 else recipient, number=n) for n in range(1, 6)}
    if not (lines["line4"] or lines["line5"]):
        raise ApplicationError("required", _("Give the street (line 4) or a locality / PO box (line 5)."),
                               field="line4")  # fmt: skip
    lines["line6"] = afnor_locality_line(postcode=postcode, city=city, country=country)
    return {**lines, "postcode": postcode, "city": city, "country": country}


def _recipient_line(customer: Customer) -> str:
    titles = {"mr": "M.", "ms": "Mme", "dr": "Dr"}
    if customer.kind == CustomerKind.COMPANY and customer.company_name:
        return customer.company_name.upper()[:38]
    parts = [titles.get(customer.title, ""), customer.given_name, customer.family_name.upper()]
    return " ".join(part for part in parts if part)[:38]


@transaction.atomic
def address_add(*, customer: Customer, data: AddressInput, acting_user=None,
                source: str = RecordSource.AGENT) -> PostalAddress:  # fmt: skip
    """Add a postal address (validated, AFNOR lines); a primary one demotes the previous primary.

    A merged-away or anonymised customer is refused (``not_live``).
    """
    customer_check_live(customer)
    values = address_lines(customer=customer, data=data)
    with history_context(acting_user=acting_user, source=source):
        is_primary = data.is_primary or not PostalAddress.objects.filter(customer=customer, is_primary=True).exists()
        if is_primary:
            PostalAddress.objects.filter(customer=customer, is_primary=True).update(is_primary=False)
        return PostalAddress.objects.create(customer=customer, is_primary=is_primary, valid_from=data.valid_from,
                                            **values)  # fmt: skip


@transaction.atomic
def address_update(*, address: PostalAddress, data: AddressInput, acting_user=None,
                   source: str = RecordSource.AGENT) -> PostalAddress:  # fmt: skip
    values = address_lines(customer=address.customer, data=data)
    with history_context(acting_user=acting_user, source=source):
        if data.is_primary and not address.is_primary:
            PostalAddress.objects.filter(customer_id=address.customer_id, is_primary=True).update(is_primary=False)
        for name, value in values.items():
            setattr(address, name, value)
        address.is_primary = data.is_primary or address.is_primary
        address.valid_from = data.valid_from or address.valid_from
        address.save()
    return address


@transaction.atomic
def address_remove(*, address: PostalAddress, acting_user=None, source: str = RecordSource.AGENT) -> None:
    with history_context(acting_user=acting_user, source=source):
        address.delete()


# The consent ledger's date limits (the ledger is append-only: a wrong date there is forever).
CONSENT_EARLIEST = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
CONSENT_CLOCK_SKEW = datetime.timedelta(minutes=5)  # a caller's clock may run a little ahead of ours


@transaction.atomic
def consent_record(*, customer: Customer, channel: str, purpose: str, status: str, source: str,
                   proof_text: str = "", ip_address: str | None = None, user_agent: str = "",
                   acting_user=None, occurred_at: datetime.datetime | None = None) -> Consent:  # fmt: skip
    """Append an entry to the consent ledger; the latest entry per channel and purpose is in force.

    The ledger is never edited (the database refuses it). An entry dated in the future is refused, and
    so is a merged-away or anonymised customer (``not_live``: the survivor holds the ledger now).
    """
    customer_check_live(customer)
    _check_choice(channel, Channel, "channel")
    _check_choice(purpose, Purpose, "purpose")
    _check_choice(status, ConsentStatus, "status")
    _check_choice(source, ConsentSource, "source")
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + CONSENT_CLOCK_SKEW:
        raise ApplicationError("invalid_date", _("A consent cannot be dated in the future."), field="occurred_at")
    if occurred_at < CONSENT_EARLIEST:  # the same rule as the API's serializer, for every other path
        raise ApplicationError("invalid_date", _("A consent cannot be dated before 1970."), field="occurred_at")
    if source == ConsentSource.AGENT and acting_user is None:
        raise ApplicationError("required", _("A consent recorded by an agent must name the agent."), field="agent")
    return Consent.objects.create(
        customer=customer, channel=channel, purpose=purpose, status=status, source=source, occurred_at=occurred_at,
        proof_text=proof_text[:5000], ip_address=ip_address or None, user_agent=(user_agent or "")[:500],
        agent=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )  # fmt: skip


@transaction.atomic
def external_id_set(*, customer: Customer, source: str, value: str) -> CustomerExternalId:
    """Record the customer's id in another system; refuses an id another customer already holds."""
    source, value = (source or "").strip()[:50], (value or "").strip()[:100]
    if not source or not value:
        raise ApplicationError("required", _("Give the source system and the external id."), field="external_id")
    holder = CustomerExternalId.objects.filter(source=source, value=value).exclude(customer=customer).first()
    if holder is not None:
        raise ApplicationError(
            "external_id_taken",
            _("%(source)s id “%(value)s” already belongs to customer %(account)s.")
            % {"source": source, "value": value, "account": holder.customer.account_number},
            field="external_id",
        )
    external_id, _created = CustomerExternalId.objects.get_or_create(customer=customer, source=source, value=value)
    return external_id


def tags_of(customers: Iterable[Customer]) -> list[str]:
    return sorted({tag for customer in customers for tag in customer.tags})
