"""An agent sends an SMS from the 360 page: checks, the provider call, the timeline, the case."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from channels.models import Interaction, ResponseTemplate
from channels.services.sms import sms_send
from crm.errors import ApplicationError
from customers.choices import ConsentSource, ConsentStatus
from customers.models import Customer
from tests.channels_factories import CaseFactory
from tests.customers_factories import ConsentFactory, CustomerFactory, MobileFactory
from tests.fake_sms_server import FakeSmsServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_sms(settings):
    server = FakeSmsServer().start()
    settings.SMS_PROVIDER, settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = "http", server.url, server.token
    settings.SMS_SENDER = "MAGASIN"
    yield server
    server.stop()


@pytest.fixture
def customer():
    customer = CustomerFactory(given_name="Léa", family_name="Martin")
    MobileFactory(customer=customer, value="+33612345678")
    return customer


def test_it_sends_through_the_provider_and_records_the_sms_on_the_timeline(client, agent, customer, fake_sms):
    case = CaseFactory(customer=customer, status="new")
    client.force_login(agent)

    response = client.post(
        reverse("channels:sms_compose", kwargs={"pk": customer.pk}),
        {"to": customer.contact_points.get().pk, "case": case.pk, "body": "Votre dossier est traité."},
    )

    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    [request] = fake_sms.received
    assert request.body == {"to": "+33612345678", "from": "MAGASIN", "text": "Votre dossier est traité."}
    sms = Interaction.objects.get(customer=customer)
    assert (sms.channel, sms.kind, sms.direction) == ("sms", "sms", "outbound")
    assert sms.external_id == "fake-000001"
    assert sms.cost == Decimal("0.06")
    assert sms.agent == agent and sms.case == case
    assert sms.conversation.kind == "sms" and sms.conversation.case == case
    assert sms.metadata["to"] == "+33612345678" and sms.metadata["segments"] == 1
    case.refresh_from_db()
    assert case.first_responded_at is not None and case.status == "open"


def test_it_refuses_a_customer_without_a_mobile_number(client, agent, fake_sms):
    customer = CustomerFactory()
    client.force_login(agent)

    page = client.get(reverse("channels:sms_compose", kwargs={"pk": customer.pk}))
    with pytest.raises(ApplicationError) as raised:
        sms_send(customer=customer, body="Bonjour", acting_user=agent)

    assert b"has no mobile number that can receive SMS" in page.content
    assert raised.value.code == "no_mobile"
    assert fake_sms.received == [] and not Interaction.objects.exists()


def test_it_refuses_an_undeliverable_number(client, agent, customer, fake_sms):
    mobile = customer.contact_points.get()
    mobile.is_undeliverable, mobile.undeliverable_reason = True, "SMS undeliverable: unknown subscriber"
    mobile.save()
    client.force_login(agent)

    response = client.post(reverse("channels:sms_compose", kwargs={"pk": customer.pk}),
                           {"to": mobile.pk, "body": "Bonjour"})  # fmt: skip
    with pytest.raises(ApplicationError) as raised:
        sms_send(customer=customer, body="Bonjour", acting_user=agent, contact_point=mobile)

    assert response.status_code == 200 and b"unknown subscriber" in response.content
    assert raised.value.code == "undeliverable"
    assert fake_sms.received == [] and not Interaction.objects.exists()


def test_a_provider_refusal_shows_its_reason_and_writes_nothing(client, agent, customer, fake_sms):
    fake_sms.fail_next(400, {"error": {"message": "Sender name not allowed"}})
    client.force_login(agent)

    response = client.post(reverse("channels:sms_compose", kwargs={"pk": customer.pk}),
                           {"to": customer.contact_points.get().pk, "body": "Bonjour"})  # fmt: skip

    assert response.status_code == 200
    assert b"Sender name not allowed" in response.content
    assert not Interaction.objects.exists()


def test_it_refuses_a_text_longer_than_six_sms(agent, customer, fake_sms):
    with pytest.raises(ApplicationError) as raised:
        sms_send(customer=customer, body="x" * (6 * 153 + 1), acting_user=agent)

    assert raised.value.code == "too_long" and "7 SMS" in raised.value.message
    assert fake_sms.received == []


def test_the_form_fills_a_template_and_shows_the_sms_consent_state(client, agent, customer):
    template = ResponseTemplate.objects.create(channel="sms", name="RDV", body="Bonjour {{ customer.given_name }}, "
                                               "votre rendez-vous est confirmé.")  # fmt: skip
    ConsentFactory(customer=customer, channel="sms", purpose="marketing", status=ConsentStatus.WITHDRAWN,
                   source=ConsentSource.SMS_KEYWORD)  # fmt: skip
    client.force_login(agent)

    page = client.get(reverse("channels:sms_compose", kwargs={"pk": customer.pk}), {"template": template.pk})

    assert "Bonjour Léa, votre rendez-vous est confirmé." in page.content.decode()
    assert page.context["count"].segments == 1
    marketing = page.content.decode().split('data-testid="sms-consent-marketing"')[1][:300]
    assert "Withdrawn" in marketing and "SMS keyword (STOP)" in marketing


def test_the_console_provider_sends_nothing_but_records_the_sms(client, agent, customer, settings):
    settings.SMS_PROVIDER = "console"
    client.force_login(agent)

    client.post(reverse("channels:sms_compose", kwargs={"pk": customer.pk}),
                {"to": customer.contact_points.get().pk, "body": "Démo"})  # fmt: skip
    outbox = client.get(reverse("channels:sms_outbox"))

    sms = Interaction.objects.get(customer=customer)
    assert sms.external_id.startswith("console-")
    assert sms.external_id in outbox.content.decode()


def test_only_staff_who_may_reply_to_customers_can_send(client, marketer, make_staff, customer, fake_sms):
    teammate = make_staff("Supervisor", username="teammate")
    url = reverse("channels:sms_compose", kwargs={"pk": customer.pk})
    data = {"to": customer.contact_points.get().pk, "body": "Bonjour"}

    client.force_login(marketer)
    refused = client.post(url, data)
    client.force_login(teammate)
    allowed = client.post(url, data)

    assert refused.status_code == 403
    assert allowed.status_code == 302
    assert len(fake_sms.received) == 1
    assert Customer.objects.count() == 1
