"""The header search: every kind of query an agent types, ranking, live customers only, access."""

from __future__ import annotations

import pytest
from django.utils import timezone

from customers.search import customer_search
from tests.customers_factories import AddressFactory, CustomerFactory, EmailFactory, MobileFactory, OrderFactory

pytestmark = pytest.mark.django_db


def names(hits):
    return [hit.name for hit in hits]


@pytest.fixture
def heloise():
    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    EmailFactory(customer=customer, value="heloise.lefevre@example.fr")
    MobileFactory(customer=customer, value="+33612345678")
    AddressFactory(customer=customer, postcode="69003", city="Lyon", line6="69003 LYON")
    return customer


def test_it_finds_a_customer_by_exact_email_whatever_the_case(heloise):
    hits = customer_search(query="Heloise.Lefevre@Example.FR")
    assert [hit.pk for hit in hits] == [heloise.pk]
    assert hits[0].matched == "email"
    assert hits[0].email == "heloise.lefevre@example.fr"


def test_it_finds_a_customer_by_the_start_of_an_email(heloise):
    assert [hit.pk for hit in customer_search(query="heloise.lef@")] == []
    assert [hit.pk for hit in customer_search(query="heloise.lefevre@exa")] == [heloise.pk]


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "0033 6 12 34 56 78",
                                   "+33 (0)6 12 34 56 78", "06.12.34.56.78"])  # fmt: skip
def test_it_finds_a_phone_typed_in_another_format_than_stored(heloise, typed):
    hits = customer_search(query=typed)
    assert [hit.pk for hit in hits] == [heloise.pk]
    assert hits[0].matched == "phone"
    assert hits[0].phone == "06 12 34 56 78"


def test_it_finds_a_customer_by_account_number_in_any_case_or_bare_digits(heloise):
    number = int(heloise.account_number.split("-")[1])
    for typed in (heloise.account_number, heloise.account_number.lower(), heloise.account_number.replace("-", ""),
                  str(number)):  # fmt: skip
        hits = customer_search(query=typed)
        assert hits and hits[0].pk == heloise.pk, typed
        assert hits[0].account_number == heloise.account_number


def test_it_finds_a_customer_by_order_number(heloise):
    OrderFactory(customer=heloise, number="CMD-2026-00042")
    hits = customer_search(query="cmd-2026-00042")
    assert [hit.pk for hit in hits] == [heloise.pk]
    assert hits[0].matched == "order"


def test_it_finds_customers_by_french_postcode(heloise):
    other = CustomerFactory(given_name="Paul", family_name="Durand")
    AddressFactory(customer=other, postcode="75002")
    hits = customer_search(query="69003")
    assert [hit.pk for hit in hits] == [heloise.pk]
    assert hits[0].city == "Lyon"


def test_it_finds_a_name_without_its_accents(heloise):
    CustomerFactory(given_name="Paul", family_name="Durand")
    assert names(customer_search(query="heloise")) == ["Héloïse Lefèvre"]
    assert names(customer_search(query="LEFEVRE")) == ["Héloïse Lefèvre"]
    assert names(customer_search(query="lefèvre héloïse")) == ["Héloïse Lefèvre"]


def test_it_finds_a_partial_name_and_a_company():
    CustomerFactory(given_name="", family_name="", company_name="Boulangerie Ça Roule", kind="company")
    CustomerFactory(given_name="Jean", family_name="Dupont")
    assert names(customer_search(query="boulang")) == ["Boulangerie Ça Roule"]
    assert names(customer_search(query="ca roule")) == ["Boulangerie Ça Roule"]
    assert names(customer_search(query="dupo")) == ["Jean Dupont"]


def test_it_tolerates_a_typo_in_a_name(heloise):
    assert "Héloïse Lefèvre" in names(customer_search(query="heloize lefevre"))


def test_it_ranks_the_closest_name_first():
    CustomerFactory(given_name="Anne", family_name="Martinez")
    CustomerFactory(given_name="Anne", family_name="Martinelli")
    CustomerFactory(given_name="Anne", family_name="Martin")
    assert names(customer_search(query="martin"))[0] == "Anne Martin"


def test_the_whole_name_typed_comes_first_even_beyond_the_ranked_candidates(monkeypatch):
    """A common name matches more names than are ranked; the exact namesakes are still shown first."""
    monkeypatch.setattr("customers.search.RANKED_CANDIDATES", 3)
    for family in ("Martinez", "Martineau", "Martinet", "Martini"):
        CustomerFactory(given_name="Jean", family_name=family)
    namesakes = [CustomerFactory(given_name="Jean", family_name="Martin") for _ in range(2)]
    hits = customer_search(query="Jean  MARTIN")
    assert [hit.pk for hit in hits[:2]] == [customer.pk for customer in namesakes]
    assert all(hit.name.startswith("Jean Martin") for hit in hits)


def test_it_shows_exact_identifiers_before_name_matches():
    by_phone = CustomerFactory(given_name="Zoé", family_name="Zidane")
    MobileFactory(customer=by_phone, value="+33698765432")
    CustomerFactory(given_name="Anne", family_name="Martin")
    hits = customer_search(query="06 98 76 54 32")
    assert [hit.pk for hit in hits] == [by_phone.pk]


def test_it_leaves_out_anonymised_customers_and_shows_the_survivor_of_a_merge():
    survivor = CustomerFactory(given_name="Marc", family_name="Petit")
    merged = CustomerFactory(given_name="Marc", family_name="Petit", merged_into=survivor,
                             merged_at=timezone.now())  # fmt: skip
    EmailFactory(customer=merged, value="marc.petit@old.example")
    CustomerFactory(given_name="Marc", family_name="Petitjean", anonymised_at=timezone.now())
    assert [hit.pk for hit in customer_search(query="marc.petit@old.example")] == [survivor.pk]
    assert [hit.pk for hit in customer_search(query="marc petit")] == [survivor.pk]


def test_it_returns_nothing_for_an_empty_or_unknown_query(heloise):
    assert customer_search(query="   ") == []
    assert customer_search(query="zzzzqqqq") == []
    assert customer_search(query="nobody@nowhere.example") == []


def test_it_caps_the_number_of_hits():
    for index in range(15):
        CustomerFactory(given_name="Camille", family_name=f"Bernard{index}")
    assert len(customer_search(query="camille", limit=10)) == 10


def test_it_uses_a_fixed_number_of_queries(heloise, django_assert_max_num_queries):
    for index in range(8):
        EmailFactory(customer=CustomerFactory(given_name="Lou", family_name=f"Robin{index}"))
    with django_assert_max_num_queries(3):
        assert len(customer_search(query="robin")) == 8


def test_the_dropdown_shows_the_hits_to_an_agent(client, agent, heloise):
    client.force_login(agent)
    response = client.get("/customers/search/_hx/", {"q": "06 12 34 56 78"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Héloïse Lefèvre" in body and heloise.account_number in body and "Lyon" in body
    assert f'href="/customers/{heloise.pk}/"' in body
    assert "<html" not in body


def test_the_results_page_works_without_javascript(client, agent, heloise):
    client.force_login(agent)
    response = client.get("/customers/search/", {"q": "heloise"})
    assert response.status_code == 200
    assert "Héloïse Lefèvre" in response.content.decode()
    assert client.get("/customers/search/", {"q": "heloise", "go": "1"})["Location"] == f"/customers/{heloise.pk}/"


def test_the_search_box_is_in_the_header_only_for_those_who_may_view_customers(client, agent, make_staff):
    client.force_login(agent)
    assert b"data-relais-search" in client.get("/").content
    client.force_login(make_staff(None, username="norole"))
    assert b"data-relais-search" not in client.get("/").content


def test_staff_without_the_permission_get_nothing(client, make_staff, heloise):
    client.force_login(make_staff(None, username="norole"))
    response = client.get("/customers/search/_hx/", {"q": "heloise"})
    assert response.status_code == 403
    assert "Lefèvre" not in response.content.decode()
