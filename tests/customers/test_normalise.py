"""Normalising what people type: phone numbers in any format, email case, AFNOR address lines."""

from __future__ import annotations

import phonenumbers
import pytest

from crm.errors import ApplicationError
from customers.normalise import (
    afnor_line,
    afnor_locality_line,
    email_normalise,
    french_postcode,
    phone_display,
    phone_normalise,
)


@pytest.mark.parametrize(
    "typed",
    ["06 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78", "06.12.34.56.78",
     "06-12-34-56-78", " 0612345678 "],
)  # fmt: skip
def test_it_reads_a_french_mobile_typed_in_any_format(typed):
    phone = phone_normalise(typed)

    assert phone.e164 == "+33612345678"
    assert phone.is_mobile
    assert phone.region == "FR"


def test_it_reads_a_french_fixed_line():
    phone = phone_normalise("01 42 68 53 00")

    assert phone.e164 == "+33142685300"
    assert not phone.is_mobile
    assert phone_display(phone.e164) == "01 42 68 53 00"


@pytest.mark.parametrize("region", ["GB", "BE", "US", "DE", "CH"])
def test_it_reads_foreign_numbers_in_international_form(region):
    example = phonenumbers.example_number(region)
    international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    with_double_zero = "00" + international.lstrip("+")

    assert phone_normalise(international).e164 == phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.E164
    )
    assert phone_normalise(with_double_zero).region == region


@pytest.mark.parametrize("typed", ["", "12", "06 12 34", "+33 6 12 34 56 78 90 12", "not a phone", "00 00 00 00 00"])
def test_it_refuses_what_is_not_a_phone_number(typed):
    with pytest.raises(ApplicationError) as error:
        phone_normalise(typed)

    assert error.value.code == "invalid_phone"


@pytest.mark.parametrize(("typed", "stored"), [
    ("Marie.Martin@Example.FR", "marie.martin@example.fr"),
    ("  jean@exemple.fr ", "jean@exemple.fr"),
])  # fmt: skip
def test_it_lower_cases_and_trims_email_addresses(typed, stored):
    assert email_normalise(typed) == stored


@pytest.mark.parametrize("typed", ["", "marie", "marie@", "@example.fr", "marie@example", "ma rie@example.fr"])
def test_it_refuses_what_is_not_an_email_address(typed):
    with pytest.raises(ApplicationError) as error:
        email_normalise(typed)

    assert error.value.code == "invalid_email"


def test_it_refuses_an_address_line_over_38_characters_naming_the_line():
    with pytest.raises(ApplicationError) as error:
        afnor_line("12 avenue du Général de Gaulle prolongée bis", number=4)

    assert error.value.field == "line4"
    assert "line 4" in error.value.message and "38" in error.value.message


def test_it_accepts_exactly_38_characters_and_collapses_spaces():
    line = "x" * 38

    assert afnor_line(line, number=2) == line
    assert afnor_line("  12   rue  de la Paix ", number=4) == "12 rue de la Paix"


@pytest.mark.parametrize(
    "typed",
    ["12 rue de la Paix.", "12 rue de la Paix,", "12 rue de la Paix:", "12 rue de la Paix ;"],
)
def test_it_removes_punctuation_at_the_end_of_a_line(typed):
    assert afnor_line(typed, number=4) == "12 rue de la Paix"


def test_it_writes_line_6_in_capitals_without_accents_for_france():
    assert afnor_locality_line(postcode="69003", city="Lyon", country="FR") == "69003 LYON"
    assert afnor_locality_line(postcode="97200", city="Fort-de-France", country="fr") == "97200 FORT DE FRANCE"
    assert afnor_locality_line(postcode="13100", city="Aix-en-Provence", country="FR") == "13100 AIX EN PROVENCE"
    assert afnor_locality_line(postcode="01000", city="Bourg-en-Bresse", country="FR").isupper()
    assert afnor_locality_line(postcode="38000", city="Évry-Grégy", country="FR") == "38000 EVRY GREGY"


def test_it_leaves_foreign_localities_as_written():
    assert afnor_locality_line(postcode="1000", city="Bruxelles", country="BE") == "1000 Bruxelles"


@pytest.mark.parametrize(
    "typed",
    ["75011", "20000", "20200", "01000", "75 011", "97100", "97400", "98000"],
)
def test_it_accepts_french_postcodes_including_corsica_and_overseas(typed):
    assert french_postcode(typed) == typed.replace(" ", "")


@pytest.mark.parametrize("typed", ["", "7501", "750111", "00100", "96000", "97900", "ABCDE"])
def test_it_refuses_what_is_not_a_french_postcode(typed):
    with pytest.raises(ApplicationError) as error:
        french_postcode(typed)

    assert error.value.field == "postcode"
