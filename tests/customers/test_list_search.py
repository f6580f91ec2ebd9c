"""The customer list's search box finds an account number typed in any case, besides names and phones.

The query shapes behind it are the ones PostgreSQL can answer from indexes (docs/benchmarks.md,
"Customer list search"): an account number is compared as stored (upper case), not with upper().
"""

from __future__ import annotations

import re

import pytest

from tests.customers_factories import CustomerFactory, MobileFactory

pytestmark = pytest.mark.django_db


def shown(response) -> list[str]:
    body = response.content.decode()
    return re.findall(r'<a href="/customers/\d+/" class="fw-semibold[^"]*">([^<]+)</a>', body)


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


def test_it_finds_an_account_number_typed_in_upper_or_lower_case(signed_in):
    customer = CustomerFactory(given_name="Loïc", family_name="Leroy")
    CustomerFactory(given_name="Paul", family_name="Roux")
    for typed in (customer.account_number, customer.account_number.lower(), f"  {customer.account_number}  "):
        assert shown(signed_in.get("/customers/", {"q": typed})) == ["Loïc Leroy"], typed


def test_a_name_search_still_finds_every_namesake_and_nobody_else(signed_in):
    CustomerFactory(given_name="Jean", family_name="Martin")
    CustomerFactory(given_name="Jeanne", family_name="Martinez")
    CustomerFactory(given_name="Paul", family_name="Roux")
    assert sorted(shown(signed_in.get("/customers/", {"q": "jean mart"}))) == ["Jean Martin", "Jeanne Martinez"]
    assert shown(signed_in.get("/customers/", {"q": "zzqxw"})) == []


def test_a_phone_search_finds_the_holder_in_any_format(signed_in):
    customer = CustomerFactory(given_name="Élodie", family_name="Rémy")
    MobileFactory(customer=customer, value="+33611223344")
    CustomerFactory(given_name="Paul", family_name="Roux")
    for typed in ("06 11 22 33 44", "+33 6 11 22 33 44", "0611223344"):
        assert shown(signed_in.get("/customers/", {"q": typed})) == ["Élodie Rémy"], typed
