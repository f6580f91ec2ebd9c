"""Turning one file row into typed, normalised values, or saying what is wrong with each cell.

Validation is pure Python (no query), so the bulk path can stream a million rows through it.
Values are kept as the text they were (a cell starting with ``=`` is a name like any other).
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from customers.choices import Channel, ConsentStatus, ContactKind, Purpose, Stage, Title
from customers.models import Contract, ImportMapping, Order
from customers.normalise import (
    afnor_line,
    email_normalise,
    fold,
    french_postcode,
    phone_normalise,
    region_for_postcode,
)

# TextChoices.values builds a new list on each call; rows check them tens of thousands of times.
STAGE_VALUES = frozenset(Stage.values)
TITLE_VALUES = frozenset(Title.values)

Kind = ImportMapping.Kind
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")
TITLES = {
    "m": "mr",
    "m.": "mr",
    "mr": "mr",
    "monsieur": "mr",
    "mme": "ms",
    "madame": "ms",
    "mlle": "ms",
    "ms": "ms",
    "mrs": "ms",
    "miss": "ms",
    "dr": "dr",
    "docteur": "dr",
    "mx": "mx",
}
FRENCH_NATIONAL = re.compile(r"^(?:0|\+33|0033)([1-9]\d{8})$")


@dataclass
class RowErrors:
    """What is wrong with one row: ``(field, value, reason)`` triples.

    ``items`` reject the row (it cannot be identified or created: no name, an id too long);
    ``warnings`` drop one value and keep the row (an unreadable phone, an invalid date, an address
    the postal standard refuses).
    """

    items: list[tuple[str, str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, name: str, value: str, reason: str) -> None:
        self.items.append((name, value, reason))

    def warn(self, name: str, value: str, reason: str) -> None:
        self.warnings.append((name, value, reason))

    def __bool__(self) -> bool:
        return bool(self.items)


# C0 control characters (and DEL) have no place in a customer record; tab and line breaks inside a
# cell are whitespace and are folded like any other.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONSENT_YES = frozenset({"oui", "o", "yes", "y", "1", "true", "vrai", "x", "ok"})
CONSENT_NO = frozenset({"non", "n", "no", "0", "false", "faux", "-"})


# Phone validity and type in libphonenumber's French metadata depend on the first digits of the
# national number only; phonenumbers takes ~200 µs per call here, so French numbers are checked once
# per 4-digit prefix and the answer reused (tests compare both on random numbers). Others go through
# ``phone_normalise`` every time.
_FRENCH_PREFIXES: dict[tuple[str, str], tuple[bool, bool, str]] = {}


def phone_normalise_fast(raw: str, *, postcode: str | None = None) -> tuple[str, bool]:
    """``(E.164, is_mobile)`` like ``customers.normalise.phone_normalise``; raises ``ApplicationError``.

    The cache is keyed by the dialling region the postcode implies and the number's first digits, and
    keeps the country code found (``0692…`` is +262 Réunion, ``0262…`` too when the postcode is 974xx).
    """
    compact = re.sub(r"[\s.\-()]", "", raw or "")
    match = FRENCH_NATIONAL.match(compact)
    if match and not re.match(r"^\+33\s*\(0\)", raw or ""):
        national = match.group(1)
        region = "FR" if compact.startswith(("+", "00")) else region_for_postcode(postcode)
        key = (region, national[:4])
        known = _FRENCH_PREFIXES.get(key)
        if known is None:
            try:
                phone = phone_normalise(raw, postcode=postcode)
                known = (True, phone.is_mobile, phone.e164[: len(phone.e164) - len(national)])
            except ApplicationError:
                known = (False, False, "")
            _FRENCH_PREFIXES[key] = known
        if known[0]:
            return known[2] + national, known[1]
        phone_normalise(raw, postcode=postcode)  # raises with the standard message
    phone = phone_normalise(raw, postcode=postcode)
    return phone.e164, phone.is_mobile


# The two shapes nearly every file uses, read without strptime (a sixth of a bulk import's Python time,
# most of it spent looking up the locale); anything else goes through DATE_FORMATS.
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
FRENCH_DATE = re.compile(r"^(\d{2})([/.-])(\d{2})\2(\d{4})$")


def date_parse(raw: str) -> datetime.date:
    text = raw.strip()
    if "T" in text or (len(text) > 10 and text[4] == "-"):
        return datetime_parse(text).date()
    match = ISO_DATE.match(text)
    if match:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))  # ValueError for 2024-02-30
    match = FRENCH_DATE.match(text)
    if match:
        return datetime.date(int(match[4]), int(match[3]), int(match[1]))
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def datetime_parse(raw: str) -> datetime.datetime:
    from django.utils import timezone

    text = raw.strip()
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        value = datetime.datetime.combine(date_parse(text), datetime.time(12, 0))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def decimal_parse(raw: str) -> Decimal:
    text = raw.replace("\u00a0", "").replace(" ", "").replace("€", "")
    if "," in text and "." in text:
        text = text.replace(".", "") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    value = Decimal(text.replace(",", "."))
    if not value.is_finite():
        raise InvalidOperation
    return value.quantize(Decimal("0.01"))


def _date_cell(values: dict, name: str, errors: RowErrors, *, past: bool = False) -> datetime.date | None:
    raw = values.get(name, "")
    if not raw:
        return None
    try:
        value = date_parse(raw)
    except ValueError:
        report = errors.warn if past else errors.add
        report(name, raw, _("“%(value)s” is not a date (use YYYY-MM-DD or DD/MM/YYYY).") % {"value": raw})
        return None
    if past and (value > datetime.date.today() or value.year < 1900):
        errors.warn(name, raw, _("The birth date must be in the past; left out."))
        return None
    return value


def customer_row_parse(values: dict[str, str]) -> tuple[dict, RowErrors]:
    """One customer row as normalised values (``email``, ``phone`` E.164, AFNOR lines...) and its problems.

    Only what stops the row from being a customer rejects it (``RowErrors.items``); a bad value in
    any other column is left out with a warning (``RowErrors.warnings``) and the row is imported.
    """
    errors = RowErrors()
    values = _without_control_characters(values, errors)
    row = {
        name: " ".join((values.get(name) or "").split())
        for name in ("external_id", "given_name", "family_name", "company_name", "city", "notes")
    }
    row["notes"] = (values.get("notes") or "").strip()
    for name, limit in (("given_name", 100), ("family_name", 100), ("company_name", 200), ("external_id", 100)):
        if len(row[name]) > limit:
            errors.add(name, row[name], _("At most %(limit)d characters.") % {"limit": limit})
    if not (row["given_name"] or row["family_name"] or row["company_name"]):
        errors.add("family_name", "", _("Give at least a name or a company name."))
    title = (values.get("title") or "").strip().lower()
    row["title"] = TITLES.get(title, title if title in TITLE_VALUES else "")
    if title and not row["title"]:
        errors.warn("title", values["title"], _("Unknown title (use M., Mme, Dr...); left out."))
    row["birth_date"] = _date_cell(values, "birth_date", errors, past=True)
    row["email"] = ""
    if values.get("email"):
        try:
            row["email"] = email_normalise(values["email"])
        except ApplicationError as error:
            errors.warn("email", values["email"], _("%(reason)s Left out.") % {"reason": error.message})
    country = (values.get("country") or "FR").strip().upper()
    if len(country) != 2 or not country.isalpha():
        errors.warn("country", values.get("country", ""), _("Give the country as a two-letter code, e.g. FR."))
        country = "FR"
    row["country"] = country
    row["postcode"] = (values.get("postcode") or "").strip()
    row["phone"], row["phone_kind"] = "", ""
    if values.get("phone"):
        try:
            hint = row["postcode"] if country == "FR" else None
            e164, is_mobile = phone_normalise_fast(values["phone"], postcode=hint)
            row["phone"], row["phone_kind"] = e164, ContactKind.MOBILE if is_mobile else ContactKind.PHONE
        except ApplicationError as error:
            errors.warn("phone", values["phone"], _("%(reason)s Left out.") % {"reason": error.message})
    _address_cells(values, row, errors)
    language = (values.get("language") or "fr").strip().lower()[:2]
    row["language"] = language if language in {"fr", "en"} else "fr"
    stage = (values.get("stage") or "").strip().lower()
    row["stage_given"] = bool(stage)
    if stage and stage not in STAGE_VALUES:
        errors.warn(
            "stage",
            values.get("stage", ""),
            _("Unknown stage; use one of: %(stages)s. Left out.") % {"stages": ", ".join(str(s.label) for s in Stage)},
        )
        row["stage_given"], stage = False, ""
    row["stage"] = stage or Stage.PROSPECT
    row["tags"] = sorted({t.strip().lower()[:50] for t in (values.get("tags") or "").split(",") if t.strip()})
    row["consents"] = _consent_cells(values, errors)
    return row, errors


def _without_control_characters(values: dict[str, str], errors: RowErrors) -> dict[str, str]:
    if not CONTROL_CHARACTERS.search("".join(values.values())):
        return values  # nearly every row: one search instead of one per cell
    clean = {}
    for name, value in values.items():
        if value and CONTROL_CHARACTERS.search(value):
            visible = CONTROL_CHARACTERS.sub("\N{REPLACEMENT CHARACTER}", value)
            if name in IDENTIFYING_FIELDS:
                errors.add(name, visible, _("This value holds a control character; correct it in the file."))
            else:
                errors.warn(name, visible, _("This value holds a control character; left out."))
            value = ""
        clean[name] = value
    return clean


IDENTIFYING_FIELDS = frozenset({"given_name", "family_name", "company_name", "external_id"})


def _address_cells(values: dict[str, str], row: dict, errors: RowErrors) -> None:
    """Address lines by AFNOR NF Z10-011; an address the standard refuses is left out whole, with a warning."""
    problems = RowErrors()
    for number in (2, 3, 4, 5):
        name = f"line{number}"
        try:
            row[name] = afnor_line(values.get(name) or "", number=number)
        except ApplicationError as error:
            problems.warn(name, values.get(name, ""), error.message)
            row[name] = ""
    row["has_address"] = bool(row["city"] or row["line4"] or row["line5"] or row["postcode"])
    if row["has_address"]:
        if not row["city"]:
            problems.warn("city", "", _("Give the city."))
        if not (row["line4"] or row["line5"]) and not problems.warnings:
            problems.warn("line4", "", _("Give the street (line 4) or a locality / PO box (line 5)."))
        if row["country"] == "FR":
            try:
                row["postcode"] = french_postcode(row["postcode"])
            except ApplicationError as error:
                problems.warn("postcode", row["postcode"], error.message)
    if problems.warnings:
        for name, value, reason in problems.warnings:
            errors.warn(name, value, _("%(reason)s The address is left out.") % {"reason": reason})
        row["has_address"] = False
        for name in ("line2", "line3", "line4", "line5"):
            row[name] = ""
        row["city"] = ""
        row["postcode"] = row["postcode"] if FRENCH_POSTCODE_SHAPE.match(row["postcode"]) else ""


FRENCH_POSTCODE_SHAPE = re.compile(r"^\d{5}$")


@functools.cache
def consent_fields() -> dict[str, tuple[str, str]]:
    """``{import field: (channel, purpose)}`` of the consent columns an import can carry."""
    return {
        "consent_email_marketing": (Channel.EMAIL, Purpose.MARKETING),
        "consent_sms_marketing": (Channel.SMS, Purpose.MARKETING),
        "consent_phone_marketing": (Channel.PHONE, Purpose.MARKETING),
        "consent_postal_mail_marketing": (Channel.POSTAL_MAIL, Purpose.MARKETING),
        "consent_email_partners": (Channel.EMAIL, Purpose.PARTNERS),
        "consent_web_personalisation": (Channel.WEB, Purpose.PROFILING),
    }


def _consent_cells(values: dict[str, str], errors: RowErrors) -> list[tuple[str, str, str]]:
    """``[(channel, purpose, granted|withdrawn)]`` from oui/non, yes/no, 1/0, true/false, x cells."""
    consents = []
    if values.keys().isdisjoint(consent_fields()):
        return consents
    for name, (channel, purpose) in consent_fields().items():
        raw = (values.get(name) or "").strip()
        if not raw:
            continue
        answer = fold(raw)
        if answer in CONSENT_YES:
            consents.append((channel, purpose, ConsentStatus.GRANTED))
        elif answer in CONSENT_NO:
            consents.append((channel, purpose, ConsentStatus.WITHDRAWN))
        else:
            errors.warn(name, raw, _("Answer yes or no (oui/non, 1/0, x); left out."))
    return consents


@functools.cache
def _values_of(choices) -> frozenset[str]:
    return frozenset(choices.values)


def _choice(values: dict, name: str, choices, default: str, errors: RowErrors) -> str:
    raw = (values.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in _values_of(choices):
        errors.add(
            name, values[name], _("Unknown value; use one of: %(values)s.") % {"values": ", ".join(choices.values)}
        )
    return raw


def _amount(values: dict, name: str, errors: RowErrors, *, required: bool = False) -> Decimal | None:
    raw = (values.get(name) or "").strip()
    if not raw:
        if required:
            errors.add(name, "", _("This value is required."))
        return None
    try:
        return decimal_parse(raw)
    except (InvalidOperation, ValueError):
        errors.add(name, raw, _("“%(value)s” is not an amount.") % {"value": raw})
        return None


def backoffice_row_parse(kind: str, values: dict[str, str]) -> tuple[dict, RowErrors]:
    """One order or contract row as typed values and its errors (the customer is resolved later)."""
    errors = RowErrors()
    row = {
        name: (values.get(name) or "").strip()[:100]
        for name in ("external_id", "number", "customer_external_id", "account_number", "customer_email", "currency")
    }
    row["external_id"] = row["external_id"] or row["number"]
    row["number"] = (row["number"] or row["external_id"])[:40]
    if not row["external_id"]:
        errors.add("number", "", _("This value is required."))
    if not (row["customer_external_id"] or row["account_number"] or row["customer_email"]):
        errors.add("customer_external_id", "", _("Say whose it is: the customer's id, account number or email."))
    row["currency"] = (row["currency"] or "EUR").upper()[:3]
    if kind == Kind.ORDERS:
        raw = values.get("placed_at", "")
        try:
            row["placed_at"] = datetime_parse(raw) if raw else None
        except ValueError:
            row["placed_at"] = None
            errors.add(
                "placed_at", raw, _("“%(value)s” is not a date (use YYYY-MM-DD or DD/MM/YYYY).") % {"value": raw}
            )
        if not raw:
            errors.add("placed_at", "", _("This value is required."))
        row["status"] = _choice(values, "status", Order.Status, Order.Status.PLACED, errors)
        row["sales_channel"] = _choice(values, "sales_channel", Order.SalesChannel, Order.SalesChannel.WEB, errors)
        row["store"] = (values.get("store") or "").strip()[:100]
        row["total_amount"] = _amount(values, "total_amount", errors, required=True)
    else:
        row["plan"] = (values.get("plan") or "").strip()[:100]
        if not row["plan"]:
            errors.add("plan", "", _("This value is required."))
        row["status"] = _choice(values, "status", Contract.Status, Contract.Status.ACTIVE, errors)
        row["start_date"] = _date_cell(values, "start_date", errors)
        if not values.get("start_date"):
            errors.add("start_date", "", _("This value is required."))
        row["end_date"] = _date_cell(values, "end_date", errors)
        if row["start_date"] and row["end_date"] and row["end_date"] < row["start_date"]:
            errors.add("end_date", values["end_date"], _("The end date is before the start date."))
        row["monthly_amount"] = _amount(values, "monthly_amount", errors) or Decimal("0")
    return row, errors
