"""Create and edit forms: exact validation messages, nothing written on error, consent proof, roles."""

from __future__ import annotations

import pytest

from customers.models import Consent, ContactPoint, Customer, PostalAddress
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db

CREATE = {"kind": "person", "given_name": "Jeanne", "family_name": "Moreau", "language": "fr", "stage": "prospect",
          "country": "FR"}  # fmt: skip


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


def test_it_creates_a_customer_with_email_phone_and_address(signed_in, agent):
    address = {"line4": "3 rue Oberkampf", "postcode": "75011", "city": "Paris"}
    response = signed_in.post("/customers/new/", {**CREATE, "email": "Jeanne@Example.fr", "phone": "06 12 34 56 78",
                                                  **address})  # fmt: skip
    customer = Customer.objects.get()
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert set(customer.contact_points.values_list("value", flat=True)) == {"jeanne@example.fr", "+33612345678"}
    assert customer.addresses.get().line6 == "75011 PARIS"


def test_a_bad_phone_is_explained_and_nothing_is_written(signed_in):
    response = signed_in.post("/customers/new/", {**CREATE, "email": "jeanne@example.fr", "phone": "06 12"})
    assert response.status_code == 200
    assert "“06 12” is not a valid phone number" in response.content.decode()
    assert (Customer.objects.count(), ContactPoint.objects.count()) == (0, 0)


def test_a_bad_email_is_explained_and_nothing_is_written(signed_in):
    response = signed_in.post("/customers/new/", {**CREATE, "email": "jeanne.example.fr"})
    assert "“jeanne.example.fr” is not a valid email address." in response.content.decode()
    assert Customer.objects.count() == 0


def test_an_address_line_too_long_is_explained_and_nothing_is_written(signed_in):
    street = "12 avenue du Général de Gaulle prolongée"
    response = signed_in.post("/customers/new/", {**CREATE, "line4": street, "postcode": "75011", "city": "Paris"})
    body = response.content.decode()
    assert f"Address line 4 has {len(street)} characters; the postal standard allows at most 38." in body
    assert (Customer.objects.count(), PostalAddress.objects.count()) == (0, 0)


def test_a_bad_postcode_is_shown_next_to_the_postcode(signed_in):
    customer = CustomerFactory()
    address = {"line4": "1 rue de Rivoli", "postcode": "7501", "city": "Paris", "country": "FR"}
    response = signed_in.post(f"/customers/{customer.pk}/addresses/new/", address)
    assert "“7501” is not a French postcode" in response.content.decode()
    assert response.context["form"].errors["postcode"]
    assert PostalAddress.objects.count() == 0


def test_it_edits_the_identity_and_tags(signed_in):
    customer = CustomerFactory(given_name="Jean", family_name="Dupont")
    response = signed_in.post(f"/customers/{customer.pk}/edit/", {"kind": "person", "given_name": "Jean",
                                                                  "family_name": "Durand", "language": "en",
                                                                  "tags": "VIP, newsletter"})  # fmt: skip
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.family_name, customer.language, customer.tags) == ("Durand", "en", ["newsletter", "vip"])


def test_it_adds_and_removes_a_contact_point(signed_in):
    customer = CustomerFactory()
    signed_in.post(f"/customers/{customer.pk}/contact-points/new/", {"kind": "phone", "value": "+33 1 42 68 53 00"})
    point = customer.contact_points.get()
    assert (point.kind, point.value) == ("phone", "+33142685300")
    signed_in.post(f"/customers/{customer.pk}/contact-points/{point.pk}/delete/")
    assert not customer.contact_points.exists()


def test_it_changes_the_stage_and_keeps_its_history(signed_in):
    customer = CustomerFactory()
    signed_in.post(f"/customers/{customer.pk}/stage/", {"stage": "customer"})
    customer.refresh_from_db()
    assert customer.stage == "customer"
    assert customer.stage_changes.filter(stage="customer", previous_stage="prospect").exists()


def test_it_records_a_consent_with_its_proof_agent_ip_and_browser(signed_in, agent):
    customer = CustomerFactory()
    signed_in.post(f"/customers/{customer.pk}/consents/new/",
                   {"channel": "sms", "purpose": "marketing", "status": "granted",
                    "proof_text": "Acceptez-vous de recevoir nos offres par SMS ?"},
                   HTTP_USER_AGENT="AgentBrowser/1.0", REMOTE_ADDR="10.1.2.3")  # fmt: skip
    consent = Consent.objects.get()
    assert (consent.channel, consent.status, consent.source) == ("sms", "granted", "agent")
    assert (consent.agent, consent.ip_address, consent.user_agent) == (agent, "10.1.2.3", "AgentBrowser/1.0")
    assert consent.proof_text == "Acceptez-vous de recevoir nos offres par SMS ?"


def test_a_consent_without_proof_is_refused(signed_in):
    customer = CustomerFactory()
    response = signed_in.post(f"/customers/{customer.pk}/consents/new/",
                              {"channel": "sms", "purpose": "marketing", "status": "granted"})  # fmt: skip
    assert response.status_code == 200 and response.context["form"].errors["proof_text"]
    assert Consent.objects.count() == 0


def test_a_teammate_agent_may_edit_a_customer_owned_by_another_agent(client, agent, make_staff):
    customer = CustomerFactory(owner=agent, family_name="Owned")
    client.force_login(make_staff("Agent", username="teammate"))
    client.post(f"/customers/{customer.pk}/edit/", {"kind": "person", "family_name": "Changed", "language": "fr"})
    customer.refresh_from_db()
    assert customer.family_name == "Changed"


@pytest.mark.parametrize("path", ["edit/", "stage/", "contact-points/new/", "addresses/new/", "consents/new/"])
def test_a_marketer_reads_but_cannot_change(client, marketer, path):
    customer = CustomerFactory(family_name="Untouched")
    EmailFactory(customer=customer)
    client.force_login(marketer)
    assert client.get(f"/customers/{customer.pk}/").status_code == 200
    assert client.get(f"/customers/{customer.pk}/{path}").status_code == 403
    response = client.post(f"/customers/{customer.pk}/{path}", {"family_name": "Changed", "kind": "person",
                                                                "language": "fr", "stage": "lead"})  # fmt: skip
    assert response.status_code == 403
    customer.refresh_from_db()
    assert (customer.family_name, customer.stage, customer.contact_points.count()) == ("Untouched", "prospect", 1)
    assert client.get("/customers/new/").status_code == 403


def test_staff_without_a_role_cannot_create(client, make_staff):
    client.force_login(make_staff(None, username="norole"))
    assert client.post("/customers/new/", CREATE).status_code == 403
    assert Customer.objects.count() == 0
