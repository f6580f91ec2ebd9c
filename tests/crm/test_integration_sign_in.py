"""The Integration role (API-token service accounts) gets no screens: no sign-in, no session; its token works."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm import roles, services
from tests.customers_factories import CustomerFactory
from tests.factories import PASSWORD

REFUSAL = "This is an integration account"


@pytest.fixture
def integration(make_staff):
    # is_staff as an admin could set it by mistake: the role, not the flag, decides.
    return make_staff(roles.INTEGRATION, username="erp.sync", is_staff=True)


def test_an_integration_account_cannot_sign_in_on_the_staff_login_form(client, integration):
    response = client.post(reverse("login"), {"username": integration.username, "password": PASSWORD})

    assert response.status_code == 200
    assert REFUSAL in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("customers:list")).status_code == 302  # still sent to the sign-in page
    assert client.get(reverse("customers:export", kwargs={"fmt": "csv"})).status_code == 302


def test_the_integration_refusal_is_shown_only_to_who_knows_the_password(client, integration):
    response = client.post(reverse("login"), {"username": integration.username, "password": "a guess"})

    body = response.content.decode()
    assert REFUSAL not in body
    assert "correct username and password" in body


def test_an_integration_account_cannot_sign_in_to_the_admin(client, integration):
    response = client.post(
        reverse("admin:login"), {"username": integration.username, "password": PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 200
    assert REFUSAL in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_session_of_an_integration_account_is_worth_nothing(client, integration):
    # However a session came to exist (made before the role was given, or forced), it opens no screen.
    client.force_login(integration)

    assert client.get(reverse("customers:list")).status_code == 302
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/v1/me/").status_code in {401, 403}


def test_the_same_person_signs_in_once_the_role_is_taken_away(client, integration):
    integration.groups.clear()
    integration.groups.add(integration.groups.model.objects.get(name=roles.AGENT))

    response = client.post(reverse("login"), {"username": integration.username, "password": PASSWORD})

    assert response.status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200


def test_staff_still_sign_in_and_their_session_holds(client, agent):
    assert client.post(reverse("login"), {"username": agent.username, "password": PASSWORD}).status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200


def test_the_integration_token_still_works_on_the_api(client, integration):
    token, key = services.api_token_create(user=integration, name="ERP", acting_user=integration)

    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert me.status_code == 200
    assert me.json()["username"] == "erp.sync"

    customer = CustomerFactory(given_name="Inès", family_name="Morel")
    listed = client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Token {key}")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [customer.pk]


def test_the_refusal_is_in_french_on_french_pages(integration):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    response = client.post(reverse("login"), {"username": integration.username, "password": PASSWORD})

    assert "compte d’intégration" in response.content.decode()
