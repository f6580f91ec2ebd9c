"""Dispatch: what a worker does with a running campaign's messages, over real transports (an SMTP
server, the local fake SMS provider), plus letters through the postal batch and agents' call tasks.

The worker loop (``campaign_dispatch``) is called directly here; tests/campaigns/test_reliability.py
runs it in real Celery worker processes and kills them.
"""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from campaigns.models import Campaign, CampaignStatus, Message, Suppression, Template
from campaigns.services.campaigns import campaign_cancel, campaign_launch, campaign_pause, campaign_resume
from campaigns.services.dispatch import campaign_dispatch
from channels.models import FollowUp, Interaction, LetterBatch
from customers.models import Consent, ContactPoint
from tests.campaigns.outbox_support import audience, campaign, email_template, open_policy
from tests.channels_factories import QueueFactory, QueueMemberFactory
from tests.customers_factories import AddressFactory, MobileFactory
from tests.fake_sms_server import FakeSmsServer
from tests.support import SmtpSink, free_port

pytestmark = pytest.mark.django_db


def launched(marketer, n=3, **fields):
    open_policy()
    segment, customers = audience(n)
    camp = campaign(segment, email_template(name=fields.get("name", "Offre")), user=marketer, **fields)
    campaign_launch(campaign=camp, acting_user=marketer)
    return camp, customers


def test_it_sends_each_email_once_over_smtp_with_its_headers_and_a_timeline_entry(marketer, smtp_sink):
    camp, customers = launched(marketer, 3)

    report = campaign_dispatch(campaign_id=camp.pk)

    assert report["sent"] == 3
    received = smtp_sink.messages()
    planned = dict(Message.objects.filter(campaign=camp).values_list("message_id", "to_address"))
    assert sorted(m["Message-ID"] for m in received) == sorted(planned)
    for email in received:
        assert email["To"] == planned[email["Message-ID"]]
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert email.get_body(("plain",)) is not None and email.get_body(("html",)) is not None
    assert set(Message.objects.filter(campaign=camp).values_list("status", flat=True)) == {"sent"}
    interactions = Interaction.objects.filter(customer__in=customers, direction="outbound", channel="email")
    assert interactions.count() == 3
    assert all(i.metadata["campaign_id"] == camp.pk for i in interactions)
    camp.refresh_from_db()
    assert camp.status == CampaignStatus.COMPLETED

    # Run again (a duplicate task, a second worker): nothing is sent twice.
    assert campaign_dispatch(campaign_id=camp.pk)["sent"] == 0
    assert len(smtp_sink.envelopes) == 3


def test_it_rechecks_consent_and_suppression_at_send_time(marketer, smtp_sink):
    camp, customers = launched(marketer, 3)
    Consent.objects.create(customer=customers[0], channel="email", purpose="marketing", status="withdrawn",
                           source="unsubscribe_link")  # fmt: skip
    Suppression.objects.create(channel="email", value=ContactPoint.objects.get(customer=customers[1]).value)

    assert campaign_dispatch(campaign_id=camp.pk)["sent"] == 1

    assert [m["To"] for m in smtp_sink.messages()] == [ContactPoint.objects.get(customer=customers[2]).value]
    reasons = dict(Message.objects.filter(campaign=camp).values_list("customer_id", "reason"))
    assert reasons[customers[0].pk] == "withdrawn" and reasons[customers[1].pk] == "suppressed"


def test_a_paused_campaign_sends_nothing_until_resumed_and_a_cancelled_one_never(marketer, smtp_sink):
    camp, _customers = launched(marketer, 2)
    campaign_pause(campaign=camp, acting_user=marketer)
    assert campaign_dispatch(campaign_id=camp.pk)["sent"] == 0
    assert smtp_sink.envelopes == []
    campaign_resume(campaign=camp, acting_user=marketer)
    assert campaign_dispatch(campaign_id=camp.pk)["sent"] == 2

    other, _ = launched(marketer, 2, name="Other")
    campaign_cancel(campaign=other, acting_user=marketer)
    assert campaign_dispatch(campaign_id=other.pk)["sent"] == 0
    assert set(Message.objects.filter(campaign=other).values_list("status", "reason")) == {("skipped", "cancelled")}
    assert len(smtp_sink.envelopes) == 2


class RefusingSink(SmtpSink):
    """Refuses one recipient with a permanent 550, as a real relay does for an unknown mailbox."""

    def __init__(self, refused: str):
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_recipient_the_server_refuses_is_failed_and_the_others_go(marketer, settings):
    camp, customers = launched(marketer, 3)
    refused = ContactPoint.objects.get(customer=customers[1]).value
    sink = RefusingSink(refused)
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    try:
        assert campaign_dispatch(campaign_id=camp.pk)["sent"] == 2
    finally:
        controller.stop()
    failed = Message.objects.get(campaign=camp, customer=customers[1])
    assert (failed.status, failed.reason) == ("failed", "refused") and "550" in failed.error
    assert len(sink.envelopes) == 2


def test_an_unreachable_mail_server_leaves_every_message_planned(marketer, settings):
    camp, _customers = launched(marketer, 2)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens

    report = campaign_dispatch(campaign_id=camp.pk)

    assert report == {"sent": 0, "more": True, "retry_in": 30}
    assert set(Message.objects.filter(campaign=camp).values_list("status", flat=True)) == {"planned"}


@pytest.fixture
def fake_sms(settings):
    server = FakeSmsServer().start()
    settings.SMS_PROVIDER, settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = "http", server.url, server.token
    yield server
    server.stop()


def test_it_sends_sms_through_the_provider_and_keeps_its_id(marketer, fake_sms):
    open_policy()
    segment, customers = audience(2, channel="sms")
    template = Template.objects.create(name="Promo", channel="sms", body="Bonjour {{ customer.given_name }} !")
    camp = campaign(segment, template, user=marketer)
    campaign_launch(campaign=camp, acting_user=marketer)

    assert campaign_dispatch(campaign_id=camp.pk)["sent"] == 2

    assert sorted(s["to"] for s in fake_sms.sent) == sorted(
        ContactPoint.objects.filter(customer__in=customers).values_list("value", flat=True)
    )
    assert {s["text"] for s in fake_sms.sent} == {f"Bonjour {c.given_name} !" for c in customers}
    assert all(m.provider_id.startswith("fake-") for m in Message.objects.filter(campaign=camp))


def test_letters_go_through_one_postal_batch(marketer):
    open_policy()
    segment, customers = audience(3, consent=None)
    for customer in customers[:2]:
        AddressFactory(customer=customer)
    template = Template.objects.create(name="Courrier", channel="postal_mail", subject="Votre offre",
                                       body="Bonjour {{ customer.given_name }},\nVoici notre offre.")  # fmt: skip
    camp = campaign(segment, template, user=marketer)
    counts = campaign_launch(campaign=camp, acting_user=marketer)
    assert counts["now"] == 2 and counts["skipped"] == {"no_contact_point": 1}

    assert campaign_dispatch(campaign_id=camp.pk)["sent"] == 2

    batch = LetterBatch.objects.get()
    assert batch.letter_count == 2
    assert sorted(batch.letters.values_list("customer_id", flat=True)) == [c.pk for c in customers[:2]]
    assert batch.letters.filter(body__startswith=f"Bonjour {customers[0].given_name},").exists()
    camp.send_step.refresh_from_db()
    assert camp.send_step.letter_batch_id == batch.pk
    assert Campaign.objects.get(pk=camp.pk).status == CampaignStatus.COMPLETED


def test_call_tasks_go_to_the_agents_round_robin_with_the_script(marketer, make_staff):
    open_policy()
    segment, customers = audience(4, consent=None)
    for customer in customers:
        MobileFactory(customer=customer)
    queue = QueueFactory(assignment_rule="round_robin")
    agents = [make_staff("Agent", username=f"agent{i}") for i in range(2)]
    for agent in agents:
        QueueMemberFactory(queue=queue, user=agent, is_available=True)
    template = Template.objects.create(name="Appel", channel="phone",
                                       body="Proposer le rendez-vous à {{ customer.given_name }}")  # fmt: skip
    camp = campaign(segment, template, user=marketer)
    campaign_launch(campaign=camp, acting_user=marketer)

    assert campaign_dispatch(campaign_id=camp.pk)["sent"] == 4

    tasks = FollowUp.objects.filter(customer__in=customers)
    assert tasks.count() == 4
    assert sorted(tasks.values_list("assignee_id", flat=True)) == sorted([a.pk for a in agents] * 2)
    assert all(t.title.startswith("Campagne: Proposer le rendez-vous") and t.interaction_id for t in tasks)
