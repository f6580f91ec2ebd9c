"""POST /api/v1/customers/resolve/ and POST /api/v1/customers/{id}/merge/."""

from __future__ import annotations

import pytest

from customers.models import ContactPoint, Customer, Order
from tests.customers_factories import (
    AddressFactory,
    CustomerFactory,
    EmailFactory,
    ExternalIdFactory,
    MobileFactory,
    OrderFactory,
)

pytestmark = pytest.mark.django_db

RESOLVE = "/api/v1/customers/resolve/"


def post(client, url, data, **extra):
    return client.post(url, data, content_type="application/json", **extra)


def test_it_resolves_a_phone_typed_in_another_format_to_one_customer(client, agent):
    customer = CustomerFactory(family_name="Garnier")
    MobileFactory(customer=customer, value="+33612345678")
    CustomerFactory(family_name="Garnier")
    client.force_login(agent)

    response = post(client, RESOLVE, {"phone": "0033 6 12 34 56 78"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["match"]["id"] == customer.pk
    assert body["match"]["phone"] == "+33612345678"
    assert 0 < body["confidence"] <= 1
    assert body["reasons"]
    assert [c["customer"]["id"] for c in body["candidates"]][0] == customer.pk


def test_it_resolves_by_email_account_number_and_external_id(client, agent):
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="claire@example.fr")
    ExternalIdFactory(customer=customer, source="erp", value="E-77")
    customer.refresh_from_db()
    client.force_login(agent)

    for query in (
        {"email": "Claire@Example.fr"},
        {"account_number": customer.account_number},
        {"external_id": {"source": "erp", "value": "E-77"}},
    ):
        assert post(client, RESOLVE, query).json()["match"]["id"] == customer.pk, query


def test_it_returns_candidates_and_no_match_when_ambiguous(client, agent):
    first = CustomerFactory(given_name="Jean", family_name="Dupont")
    second = CustomerFactory(given_name="Jean", family_name="Dupont")
    AddressFactory(customer=first, postcode="69003", city="Lyon", line6="69003 LYON")
    AddressFactory(customer=second, postcode="69003", city="Lyon", line6="69003 LYON")
    client.force_login(agent)

    body = post(client, RESOLVE, {"given_name": "Jean", "family_name": "Dupont", "postcode": "69003"}).json()

    assert body["match"] is None
    assert {c["customer"]["id"] for c in body["candidates"]} == {first.pk, second.pk}
    assert all(c["reasons"] for c in body["candidates"])


def test_it_refuses_a_bad_email_to_resolve(client, agent):
    client.force_login(agent)

    response = post(client, RESOLVE, {"email": "not-an-email"})

    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]


def test_it_resolves_nothing_for_someone_without_the_permission(client, make_staff):
    customer = CustomerFactory(family_name="Hidden")
    EmailFactory(customer=customer, value="hidden@example.fr")
    client.force_login(make_staff(None, username="norole"))

    response = post(client, RESOLVE, {"email": "hidden@example.fr"})

    assert response.status_code == 403
    assert b"Hidden" not in response.content


def test_it_merges_a_duplicate_through_the_api(client, supervisor):
    survivor = CustomerFactory(given_name="Marie", family_name="Laurent")
    duplicate = CustomerFactory(given_name="Marie", family_name="Laurent")
    EmailFactory(customer=survivor, value="marie@example.fr")
    EmailFactory(customer=duplicate, value="marie.laurent@example.fr", is_primary=True)
    order = OrderFactory(customer=duplicate)
    client.force_login(supervisor)

    response = post(client, f"/api/v1/customers/{survivor.pk}/merge/", {"duplicate": duplicate.pk})

    assert response.status_code == 200, response.json()
    assert response.json()["id"] == survivor.pk
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    assert Order.objects.get(pk=order.pk).customer_id == survivor.pk
    assert set(ContactPoint.objects.filter(customer=survivor).values_list("value", flat=True)) == {
        "marie@example.fr",
        "marie.laurent@example.fr",
    }
    redirect = client.get(f"/api/v1/customers/{duplicate.pk}/")
    assert redirect.status_code == 308
    assert redirect.json()["error"]["survivor"] == survivor.pk


def test_it_applies_merge_overrides(client, supervisor):
    survivor = CustomerFactory(given_name="Marie", family_name="Laurent")
    duplicate = CustomerFactory(given_name="Marie", family_name="Laurent-Petit")
    client.force_login(supervisor)

    response = post(
        client,
        f"/api/v1/customers/{survivor.pk}/merge/",
        {"duplicate": duplicate.pk, "overrides": {"family_name": "duplicate"}},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["family_name"] == "Laurent-Petit"


def test_it_refuses_a_merge_into_itself_and_an_unknown_duplicate(client, supervisor):
    customer = CustomerFactory()
    client.force_login(supervisor)

    itself = post(client, f"/api/v1/customers/{customer.pk}/merge/", {"duplicate": customer.pk})
    unknown = post(client, f"/api/v1/customers/{customer.pk}/merge/", {"duplicate": 999999})

    assert itself.status_code == 400
    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"]["duplicate"][0]["code"] == "not_found"
    customer.refresh_from_db()
    assert customer.merged_into_id is None


@pytest.mark.parametrize("role", ["agent", "marketer"])
def test_it_refuses_a_merge_to_roles_without_the_permission(client, request, role):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    client.force_login(request.getfixturevalue(role))

    response = post(client, f"/api/v1/customers/{survivor.pk}/merge/", {"duplicate": duplicate.pk})

    assert response.status_code == 403
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0
