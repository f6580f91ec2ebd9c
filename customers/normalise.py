"""Normalisation of what people type: email addresses, phone numbers, French postal addresses.

Pure functions (no database): identity resolution, forms, the API and imports all call these, so a
phone typed ``06 12 34 56 78`` and one sent as ``+33612345678`` become the same ``+33612345678``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from crm.errors import ApplicationError

DEFAULT_REGION = "FR"
AFNOR_LINE_LENGTH = 38
# A French postcode: 5 digits, département 01-95 (20 for Corsica), 971-978 / 980-989 overseas.
FRENCH_POSTCODE = re.compile(r"^(?:(?:0[1-9]|[1-8]\d|9[0-5])\d{3}|97[1-8]\d{2}|98[046-9]\d{2})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The everyday shape of an address, a strict subset of what Django's validate_email accepts: checked
# first because validate_email costs ~17 us an address (an import checks up to a million).
COMMON_EMAIL = re.compile(r"^[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d"})


@dataclass(frozen=True)
class Phone:
    e164: str
    is_mobile: bool
    region: str | None


def email_normalise(raw: str) -> str:
    """Lower-case, trimmed email address; raises ``ApplicationError`` when it cannot be one.

    Django's ``validate_email`` decides what an address is (``a<b>@c.de`` is not), the same rule as
    the API's email fields; on top of it the domain must have a dot (no ``user@localhost`` customer).
    """
    value = (raw or "").strip().lower()
    valid = len(value) <= 254 and EMAIL.match(value) is not None
    if valid and not COMMON_EMAIL.match(value):
        try:
            validate_email(value)
        except ValidationError:
            valid = False
    if not valid:
        raise ApplicationError("invalid_email", _("“%(value)s” is not a valid email address.") % {"value": raw})
    return value


# Overseas French départements dial like mainland France (10 digits from 0) but have their own
# country codes: +262 Réunion and Mayotte, +590 Guadeloupe, +594 Guyane, +596 Martinique.
OVERSEAS_REGIONS = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}
OVERSEAS_TRIED = ("RE", "YT", "GP", "MQ", "GF")


def region_for_postcode(postcode: str | None, *, default: str = DEFAULT_REGION) -> str:
    """The dialling region a French postcode implies: an overseas département's (974xx -> RE), else ``default``."""
    return OVERSEAS_REGIONS.get((postcode or "").replace(" ", "")[:3], default)


def phone_normalise(raw: str, *, region: str = DEFAULT_REGION, postcode: str | None = None) -> Phone:
    """E.164 form of a phone number typed in any common way (``06 12…``, ``0033 6…``, ``+33 (0)6…``).

    A national number (``0692 12 34 56``) is read in the region the ``postcode`` implies (974xx:
    Réunion), else in ``region``; a French national number that mainland France does not have is then
    tried in each overseas département (``0692…`` is a Réunion mobile whatever the postcode says).
    Raises ``ApplicationError`` saying why when the number is not a valid one.
    """
    text = (raw or "").strip()
    # "+33 (0)6 12 34 56 78": the "(0)" is a trunk prefix that must go once a country code is given.
    text = re.sub(r"^\+(\d{1,3})\s*\(0\)", r"+\1", text)
    text = re.sub(r"^00(?=\d)", "+", text.replace(" ", "").replace(".", "").replace("-", ""))
    if postcode and region == DEFAULT_REGION:
        region = region_for_postcode(postcode)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ApplicationError("invalid_phone", _("“%(value)s” is not a phone number.") % {"value": raw}) from None
    if not phonenumbers.is_valid_number(number) and region in (DEFAULT_REGION, *OVERSEAS_TRIED) and text[:1] == "0":
        for overseas in (*OVERSEAS_TRIED, DEFAULT_REGION):
            if overseas == region:
                continue
            candidate = phonenumbers.parse(text, overseas)
            if phonenumbers.is_valid_number(candidate):
                number = candidate
                break
    if not phonenumbers.is_valid_number(number):
        raise ApplicationError(
            "invalid_phone",
            _("“%(value)s” is not a valid phone number (check the number of digits and the country code).")
            % {"value": raw},
        )
    kind = phonenumbers.number_type(number)
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        is_mobile=kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        and kind != phonenumbers.PhoneNumberType.FIXED_LINE,
        region=phonenumbers.region_code_for_number(number),
    )


def phone_display(e164: str) -> str:
    """National format for French numbers (06 12 34 56 78), international otherwise."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == DEFAULT_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def looks_like_phone(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return 6 <= len(digits) <= 15 and not re.search(r"[A-Za-z@]", text)


def fold(text: str) -> str:
    """Lower-case and strip accents, as the database's ``relais_fold`` does for search columns."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()
    # unaccent also spells out ligatures; NFKD keeps them.
    return folded.translate(LIGATURES) if not folded.isascii() else folded


def afnor_line(raw: str, *, number: int) -> str:
    """One address line by AFNOR NF Z10-011: at most 38 characters, no punctuation at its end."""
    line = " ".join((raw or "").split())
    line = line.rstrip(".,;: ")
    if len(line) > AFNOR_LINE_LENGTH:
        raise ApplicationError(
            "line_too_long",
            _("Address line %(number)d has %(length)d characters; the postal standard allows at most 38.")
            % {"number": number, "length": len(line)},
            field=f"line{number}",
        )
    return line


def french_postcode(raw: str) -> str:
    value = (raw or "").replace(" ", "")
    if not FRENCH_POSTCODE.match(value):
        raise ApplicationError(
            "invalid_postcode",
            _("“%(value)s” is not a French postcode (5 digits, e.g. 75011).") % {"value": raw},
            field="postcode",
        )
    return value


@functools.lru_cache(maxsize=65536)  # imports repeat the same few thousand localities
def afnor_locality_line(*, postcode: str, city: str, country: str) -> str:
    """Line 6: for France, postcode then locality in capitals without accents (``75011 PARIS``)."""
    if country.upper() == "FR":
        city_caps = "".join(ch for ch in unicodedata.normalize("NFKD", city) if not unicodedata.combining(ch)).upper()
        city_caps = re.sub(r"[^A-Z0-9 ]", " ", city_caps)
        return " ".join(f"{postcode} {city_caps}".split())[:AFNOR_LINE_LENGTH]
    return " ".join(f"{postcode} {city}".split())[:AFNOR_LINE_LENGTH]
