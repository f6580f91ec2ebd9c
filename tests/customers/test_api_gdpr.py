"""GET /api/v1/customers/{id}/export/ and POST /api/v1/customers/{id}/erase/."""

from __future__ import annotations

import pytest

from crm.services import api_token_create
from customers.models import ContactPoint, Customer, Order
from tests.customers_factories import AddressFactory, CustomerFactory, EmailFactory, MobileFactory, OrderFactory

pytestmark = pytest.mark.django_db


def post(client, url, data, **extra):
    return client.post(url, data, content_type="application/json", **extra)


@pytest.fixture
def person(db):
    customer = CustomerFactory(given_name="Sophie", family_name="Fontaine")
    EmailFactory(customer=customer, value="sophie.fontaine@example.fr")
    MobileFactory(customer=customer, value="+33698765432")
    AddressFactory(customer=customer)
    OrderFactory(customer=customer)
    customer.refresh_from_db()
    return customer


def test_it_exports_a_customers_data_as_json(client, supervisor, person):
    client.force_login(supervisor)

    response = client.get(f"/api/v1/customers/{person.pk}/export/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{person.account_number}.json"'
    text = response.content.decode()
    assert "sophie.fontaine@example.fr" in text and "+33698765432" in text and "Fontaine" in text
    assert "customers.Order" in response.json()["tables"]


@pytest.mark.parametrize("role", ["agent", "marketer"])
def test_it_refuses_an_export_to_roles_without_the_permission(client, request, role, person):
    client.force_login(request.getfixturevalue(role))

    response = client.get(f"/api/v1/customers/{person.pk}/export/")

    assert response.status_code == 403
    assert b"Fontaine" not in response.content and b"sophie" not in response.content


def test_it_erases_a_customer_once_the_account_number_is_confirmed(client, admin_staff, person):
    client.force_login(admin_staff)

    response = post(client, f"/api/v1/customers/{person.pk}/erase/", {"confirm": person.account_number})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["anonymised_at"] is not None
    assert "Fontaine" not in response.content.decode()
    person.refresh_from_db()
    assert person.anonymised_at is not None and person.family_name != "Fontaine"
    assert not ContactPoint.objects.filter(customer=person).exists()
    assert Order.objects.filter(customer=person).count() == 1
    again = post(client, f"/api/v1/customers/{person.pk}/erase/", {"confirm": person.account_number})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_anonymised"


def test_it_erases_nothing_without_the_right_confirmation(client, admin_staff, person):
    client.force_login(admin_staff)

    for body in ({"confirm": "C-0000000"}, {}):
        response = post(client, f"/api/v1/customers/{person.pk}/erase/", body)
        assert response.status_code == 400
        assert "confirm" in response.json()["error"]["fields"]
    person.refresh_from_db()
    assert person.anonymised_at is None and person.family_name == "Fontaine"
    assert ContactPoint.objects.filter(customer=person).count() == 2


@pytest.mark.parametrize("role", ["agent", "supervisor", "marketer"])
def test_it_refuses_an_erasure_to_roles_without_the_permission(client, request, role, person):
    user = request.getfixturevalue(role)
    _token, key = api_token_create(user=user, name="integration", acting_user=user)

    response = post(
        client,
        f"/api/v1/customers/{person.pk}/erase/",
        {"confirm": person.account_number},
        HTTP_AUTHORIZATION=f"Token {key}",
    )

    assert response.status_code == 403
    person.refresh_from_db()
    assert person.anonymised_at is None
    assert Customer.objects.get(pk=person.pk).family_name == "Fontaine"
