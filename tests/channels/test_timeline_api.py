"""The timeline API: a customer's interactions (cursor pages, filters), recording one idempotently, reading one."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels.models import Interaction
from crm import roles
from customers.services.records import CustomerInput, customer_create
from tests.channels_factories import InteractionFactory
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def integration(make_staff):
    return make_staff(roles.INTEGRATION, username="integration.test")


def test_it_lists_a_customers_interactions_newest_first_in_cursor_pages(api, agent, django_assert_max_num_queries):
    customer = CustomerFactory()
    start = timezone.now() - datetime.timedelta(days=10)
    made = [InteractionFactory(customer=customer, occurred_at=start + datetime.timedelta(hours=i), agent=agent)
            for i in range(7)]  # fmt: skip
    InteractionFactory(customer=CustomerFactory())
    api.force_authenticate(agent)
    with django_assert_max_num_queries(5):
        first = api.get(f"/api/v1/customers/{customer.pk}/interactions/", {"page_size": 5}).json()
    assert [row["id"] for row in first["results"]] == [i.pk for i in reversed(made)][:5]
    assert first["results"][0]["agent"]["username"] == agent.username
    second = api.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [made[1].pk, made[0].pk] and second["next"] is None


def test_it_filters_by_channel_kind_and_period(api, agent):
    customer = CustomerFactory()
    now = timezone.now()
    email = InteractionFactory(customer=customer, channel="email", kind="email", occurred_at=now)
    InteractionFactory(customer=customer, channel="phone", kind="call", occurred_at=now)
    old = InteractionFactory(
        customer=customer, channel="email", kind="email", occurred_at=now - datetime.timedelta(days=40)
    )
    api.force_authenticate(agent)
    url = f"/api/v1/customers/{customer.pk}/interactions/"
    assert [r["id"] for r in api.get(url, {"channel": "email"}).json()["results"]] == [email.pk, old.pk]
    since = (now - datetime.timedelta(days=1)).isoformat()
    assert [r["id"] for r in api.get(url, {"channel": "email", "since": since}).json()["results"]] == [email.pk]
    until = (now - datetime.timedelta(days=1)).isoformat()
    assert [r["id"] for r in api.get(url, {"until": until}).json()["results"]] == [old.pk]
    bad = api.get(url, {"channel": "pigeon"})
    assert bad.status_code == 400 and "channel.0" in bad.json()["error"]["fields"]


def test_unknown_customers_are_404_and_merged_ones_redirect_to_the_survivor(api, agent):
    survivor = CustomerFactory()
    tombstone = CustomerFactory(merged_into=survivor)
    api.force_authenticate(agent)
    assert api.get("/api/v1/customers/999999/interactions/").status_code == 404
    response = api.get(f"/api/v1/customers/{tombstone.pk}/interactions/")
    assert response.status_code == 308 and response["Location"].endswith(
        f"/api/v1/customers/{survivor.pk}/interactions/"
    )


def test_who_may_read_and_record(api, agent, marketer, make_staff, integration):
    customer = CustomerFactory()
    interaction = InteractionFactory(customer=customer, subject="Secret subject")
    payload = {"channel": "web", "direction": "inbound", "kind": "form", "customer": customer.pk}
    api.force_authenticate(marketer)
    assert api.get(f"/api/v1/channels/interactions/{interaction.pk}/").json()["subject"] == "Secret subject"
    assert api.post("/api/v1/channels/interactions/", payload, format="json").status_code == 403
    nobody = make_staff(None, username="nobody")
    api.force_authenticate(nobody)
    for response in (api.get(f"/api/v1/channels/interactions/{interaction.pk}/"),
                     api.get(f"/api/v1/customers/{customer.pk}/interactions/")):  # fmt: skip
        assert response.status_code == 403 and "Secret subject" not in response.content.decode()
    api.force_authenticate(None)
    assert api.get(f"/api/v1/channels/interactions/{interaction.pk}/").status_code == 401
    api.force_authenticate(integration)
    assert api.post("/api/v1/channels/interactions/", payload, format="json").status_code == 201
    api.force_authenticate(agent)
    assert api.post("/api/v1/channels/interactions/", payload, format="json").status_code == 201
    assert Interaction.objects.filter(channel="web").count() == 2


def test_posting_the_same_external_id_twice_returns_the_first_interaction(api, integration):
    customer = CustomerFactory()
    payload = {"channel": "phone", "direction": "inbound", "kind": "call", "customer": customer.pk,
               "subject": "Appel entrant", "external_id": "pbx-42", "duration_seconds": 90}  # fmt: skip
    api.force_authenticate(integration)
    first = api.post("/api/v1/channels/interactions/", payload, format="json")
    again = api.post("/api/v1/channels/interactions/", {**payload, "subject": "Changed"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["interaction"]["id"] == again.json()["interaction"]["id"]
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    assert Interaction.objects.get().subject == "Appel entrant"
    # The same reference on another channel is another contact.
    other = api.post("/api/v1/channels/interactions/", {**payload, "channel": "sms", "kind": "sms"}, format="json")
    assert other.status_code == 201 and Interaction.objects.count() == 2


def test_the_customer_is_found_by_email_and_the_body_is_sanitised(api, integration):
    customer = customer_create(data=CustomerInput(given_name="Inès", family_name="Morel",
                                                  emails=["ines.morel@example.fr"]))  # fmt: skip
    api.force_authenticate(integration)
    response = api.post("/api/v1/channels/interactions/", {
        "channel": "email", "direction": "inbound", "kind": "email", "email": "Ines.Morel@Example.fr",
        "subject": "Facture", "body": "<p>Bonjour</p><script>alert(1)</script>",
    }, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["interaction"]["customer"] == customer.pk and body["matched_by"]
    assert body["interaction"]["body"] == "<p>Bonjour</p>" and body["interaction"]["cost"] == "0.02"
    detail = api.get(f"/api/v1/channels/interactions/{body['interaction']['id']}/").json()
    assert detail["summary"] == "Bonjour"


def test_an_unknown_person_is_recorded_without_a_customer(api, integration):
    api.force_authenticate(integration)
    response = api.post("/api/v1/channels/interactions/", {
        "channel": "phone", "direction": "inbound", "kind": "call", "phone": "+33 6 99 88 77 66",
    }, format="json")  # fmt: skip
    assert response.status_code == 201 and response.json()["interaction"]["customer"] is None


def test_bad_input_is_a_400_with_the_field_and_nothing_is_written(api, integration):
    api.force_authenticate(integration)
    cases = [
        ({"channel": "fax", "direction": "inbound", "kind": "call"}, "channel"),
        ({"channel": "phone", "direction": "inbound", "kind": "call", "customer": 999999}, "customer"),
        ({"channel": "email", "direction": "inbound", "kind": "email", "email": "not an email"}, "email"),
        ({"channel": "phone", "direction": "inbound", "kind": "call",
          "occurred_at": (timezone.now() + datetime.timedelta(days=2)).isoformat()}, "occurred_at"),
    ]  # fmt: skip
    for payload, field in cases:
        response = api.post("/api/v1/channels/interactions/", payload, format="json")
        assert response.status_code == 400, (payload, response.json())
        assert field in response.json()["error"]["fields"], response.json()
    assert not Interaction.objects.exists()


def test_an_unknown_interaction_is_404(api, agent):
    api.force_authenticate(agent)
    assert api.get("/api/v1/channels/interactions/999999/").status_code == 404
