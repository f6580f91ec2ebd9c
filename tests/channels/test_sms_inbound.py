"""Inbound SMS and delivery reports through the provider's webhooks: STOP, threading, cases, idempotency."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from channels.models import Case, Conversation, Interaction
from channels.services.sms import is_stop_keyword
from customers.models import Consent, ContactPoint
from customers.selectors import consent_effective
from tests.channels_factories import CaseFactory, InteractionFactory
from tests.customers_factories import ConsentFactory, CustomerFactory, MobileFactory

pytestmark = pytest.mark.django_db
TOKEN = "webhook-secret"


@pytest.fixture(autouse=True)
def webhook_token(settings):
    settings.SMS_WEBHOOK_TOKEN = TOKEN


@pytest.fixture
def customer():
    customer = CustomerFactory(given_name="Paul", family_name="Durand")
    MobileFactory(customer=customer, value="+33698765432")
    return customer


def _post(client, name, payload, token=TOKEN):
    headers = {"HTTP_X_RELAIS_WEBHOOK_TOKEN": token} if token is not None else {}
    return client.post(reverse(name), payload, content_type="application/json", **headers)


def _inbound(client, text, message_id="m-1", sender="06 98 76 54 32", token=TOKEN):
    payload = {"from": sender, "to": "38000", "text": text, "message_id": message_id,
               "received_at": "2026-11-20T10:15:00+01:00"}  # fmt: skip
    return _post(client, "api_v1_sms_inbound", payload, token)


@pytest.mark.parametrize("text", ["STOP", " stop ", "Stop SMS", "ARRET", "arrêt", "ARRÊT.", "Unsubscribe"])
def test_stop_keywords_are_recognised_whatever_their_case_and_spacing(text):
    assert is_stop_keyword(text)


@pytest.mark.parametrize("text", ["stop the delivery please", "STOPPER", "", "je veux arrêter"])
def test_other_texts_are_not_stop(text):
    assert not is_stop_keyword(text)


def test_stop_withdraws_the_sms_marketing_consent_and_opens_no_case(client, customer, agent):
    ConsentFactory(customer=customer, channel="sms", purpose="marketing", status="granted",
                   occurred_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC))  # fmt: skip

    response = _inbound(client, "Stop")

    assert response.status_code == 201 and response.json()["stop"] is True
    effective = consent_effective(customer=customer)[("sms", "marketing")]
    assert effective.status == "withdrawn" and effective.source == "sms_keyword"
    assert "+33698765432" in effective.proof_text and "Stop" in effective.proof_text
    assert effective.occurred_at.isoformat().startswith("2026-11-20T09:15")
    assert not Case.objects.exists()
    [sms] = Interaction.objects.filter(customer=customer)
    assert sms.direction == "inbound" and sms.outcome == "stop"
    client.force_login(agent)
    page = client.get(reverse("customers:detail", kwargs={"pk": customer.pk})).content.decode()
    badge = page.split('data-testid="consent-sms"')[1][:200]
    assert "no" in badge  # the 360 identity card's SMS badge reads "SMS: no"


def test_stop_from_a_number_two_customers_share_withdraws_both(client, customer):
    partner = CustomerFactory()
    MobileFactory(customer=partner, value="+33698765432", is_primary=True)

    _inbound(client, "ARRET")

    withdrawn = Consent.objects.filter(channel="sms", purpose="marketing", status="withdrawn")
    assert set(withdrawn.values_list("customer_id", flat=True)) == {customer.pk, partner.pk}


def test_a_message_opens_a_case_and_the_next_one_joins_it(client, customer):
    first = _inbound(client, "Mon colis n'est pas arrivé", message_id="m-1")
    second = _inbound(client, "Toujours rien ce matin", message_id="m-2")

    assert first.status_code == 201 and second.status_code == 201
    case = Case.objects.get()
    assert case.customer == customer and case.channel == "sms"
    assert "Mon colis" in case.subject
    assert first.json()["case_number"] == second.json()["case_number"] == case.number
    conversation = Conversation.objects.get()
    assert conversation.kind == "sms" and conversation.customer == customer and conversation.case == case
    texts = list(Interaction.objects.filter(conversation=conversation).order_by("id").values_list("summary", flat=True))
    assert texts == ["Mon colis n'est pas arrivé", "Toujours rien ce matin"]


def test_a_reply_to_an_agents_sms_goes_to_the_case_it_was_about(client, customer, agent, settings):
    settings.SMS_PROVIDER = "console"
    case = CaseFactory(customer=customer, status="waiting")
    client.force_login(agent)
    data = {"to": customer.contact_points.get().pk, "case": case.pk, "body": "Pouvez-vous confirmer ?"}
    client.post(reverse("channels:sms_compose", kwargs={"pk": customer.pk}), data)
    client.logout()

    _inbound(client, "Oui c'est bon", message_id="reply-1")

    case.refresh_from_db()
    assert Case.objects.count() == 1 and case.status == "open"
    assert Interaction.objects.get(external_id="reply-1").case == case


def test_a_message_delivered_twice_is_recorded_once(client, customer):
    first = _inbound(client, "Bonjour", message_id="dup-1")
    second = _inbound(client, "Bonjour", message_id="dup-1")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["created"] is False
    assert second.json()["interaction_ids"] == first.json()["interaction_ids"]
    assert Interaction.objects.count() == 1 and Case.objects.count() == 1


def test_an_unknown_number_gets_its_own_thread_and_a_case_to_link(client):
    response = _inbound(client, "Bonjour, je suis un nouveau client", sender="+33611111111")

    assert response.status_code == 201 and response.json()["customer_ids"] == []
    sms = Interaction.objects.get()
    assert sms.customer is None and sms.conversation.visitor_id == "tel:+33611111111"
    assert Case.objects.get().customer is None


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("wrong", 401)])
def test_it_refuses_a_missing_or_wrong_token_and_records_nothing(client, customer, token, status):
    response = _inbound(client, "STOP", token=token)

    assert response.status_code == status
    assert response.json()["error"]["code"] == "invalid_token"
    assert not Interaction.objects.exists() and not Consent.objects.exists()


def test_webhooks_are_off_until_a_token_is_configured(client, settings):
    settings.SMS_WEBHOOK_TOKEN = ""

    response = _inbound(client, "Bonjour", token="")

    assert response.status_code == 503 and not Interaction.objects.exists()


def test_it_rejects_a_sender_that_is_not_a_phone_number(client):
    response = _inbound(client, "Bonjour", sender="hello")

    assert response.status_code == 400
    assert "from" in response.json()["error"]["fields"]
    assert not Interaction.objects.exists()


def test_a_delivery_report_updates_the_sms(client, customer):
    sms = InteractionFactory(customer=customer, channel="sms", kind="sms", direction="outbound",
                             external_id="prov-1", metadata={"to": "+33698765432", "status": "queued"})  # fmt: skip

    response = _post(client, "api_v1_sms_status", {"message_id": "prov-1", "status": "delivered"})

    assert response.status_code == 200
    sms.refresh_from_db()
    assert sms.metadata["status"] == "delivered" and sms.metadata["delivery"][0]["status"] == "delivered"
    assert not ContactPoint.objects.get(customer=customer).is_undeliverable


def test_a_permanent_failure_marks_the_number_undeliverable(client, customer, agent):
    InteractionFactory(customer=customer, channel="sms", kind="sms", direction="outbound", external_id="prov-2",
                       metadata={"to": "+33698765432", "status": "queued"})  # fmt: skip

    report = {"message_id": "prov-2", "status": "undeliverable", "error_message": "Unknown subscriber"}
    response = _post(client, "api_v1_sms_status", report)

    assert response.status_code == 200 and response.json()["number_undeliverable"] is True
    mobile = ContactPoint.objects.get(customer=customer)
    assert mobile.is_undeliverable and "Unknown subscriber" in mobile.undeliverable_reason
    client.force_login(agent)
    page = client.get(reverse("channels:sms_compose", kwargs={"pk": customer.pk}))
    assert b"has no mobile number that can receive SMS" in page.content


def test_a_report_for_an_unknown_message_is_a_404(client):
    response = _post(client, "api_v1_sms_status", {"message_id": "nope", "status": "delivered"})

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
