"""Email in, batched (``email_inbound_record_many``, the IMAP poll's path): the same answers as one by one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from channels.choices import CaseStatus
from channels.models import Attachment, Case, ChannelCost, Conversation, Interaction
from channels.services import interactions as interactions_service
from channels.services.cases import case_sla_apply
from channels.services.email_in import (
    customers_by_email,
    email_inbound_record,
    email_inbound_record_many,
)
from crm.errors import ApplicationError
from customers.services.identity import identity_resolve
from tests.channels import email_support
from tests.channels.email_support import build_message, corpus
from tests.channels_factories import QueueFactory, QueueMemberFactory, SlaPolicyFactory
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db
media = email_support.media


def test_a_batch_answers_each_message_in_order_as_one_by_one_would(media):
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="heloise@example.fr")
    raws = [
        build_message(message_id="<b1@example.fr>"),
        b"Subject: nobody sent this\r\n\r\nno sender\r\n",
        build_message(message_id="<b2@example.fr>", subject="Re: Ma commande", in_reply_to="<b1@example.fr>"),
        build_message(message_id="<b1@example.fr>"),  # the same message twice in one batch
        build_message(message_id="<b3@example.fr>", subject="Out of office", in_reply_to="<b1@example.fr>"),
        corpus("nested_with_attachments.eml"),
        build_message(sender="stranger@example.org", message_id="<b4@example.fr>"),
    ]
    results = email_inbound_record_many(raws, source="imap")
    assert isinstance(results[1], ApplicationError) and results[1].code == "email_no_sender"
    first, reply, again, auto, attached, stranger = [results[i] for i in (0, 2, 3, 4, 5, 6)]
    assert [r.status for r in (first, reply, again, auto, attached, stranger)] == [
        "created", "created", "duplicate", "auto_reply", "created", "created",
    ]  # fmt: skip
    assert reply.conversation.pk == first.conversation.pk == auto.conversation.pk
    assert reply.case.pk == first.case.pk == auto.case.pk  # an auto-reply joins its thread's case, opens none
    assert again.interaction.pk == first.interaction.pk
    assert first.case.number.startswith("CS-") and first.case.customer == customer
    assert stranger.interaction.customer is None and stranger.case.customer is None
    assert Interaction.objects.count() == 5
    assert Case.objects.count() == 3 and Conversation.objects.count() == 3
    assert Attachment.objects.filter(interaction=attached.interaction).count() == 2
    stored = Interaction.objects.get(external_id="b2@example.fr")
    assert stored.metadata["source"] == "imap" and stored.customer == customer
    assert stored.conversation_id == first.conversation.pk and stored.case_id == first.case.pk


def test_a_batch_reply_reopens_a_stored_resolved_case_and_identifies_the_thread(media):
    first = email_inbound_record(raw=build_message(sender="new@example.fr", message_id="<s1@example.fr>"))
    Case.objects.filter(pk=first.case.pk).update(status=CaseStatus.RESOLVED)
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="known@example.fr")
    [reply] = email_inbound_record_many(
        [build_message(sender="known@example.fr", message_id="<s2@example.fr>", in_reply_to="<s1@example.fr>")]
    )
    assert reply.conversation.pk == first.conversation.pk
    case = Case.objects.get(pk=first.case.pk)
    assert case.status == CaseStatus.OPEN and case.reopened_count == 1 and case.customer == customer
    assert set(Interaction.objects.values_list("customer_id", flat=True)) == {customer.pk}
    again = email_inbound_record_many([build_message(message_id="<s2@example.fr>")])
    assert again[0].status == "duplicate" and again[0].interaction.pk == reply.interaction.pk


def test_new_cases_of_a_batch_get_the_sla_and_the_round_robin_of_case_open(media, make_staff):
    from channels.models import Mailbox
    from crm import roles

    queue = QueueFactory(name="Billing")
    agents = [make_staff(roles.AGENT, username=f"agent.{n}") for n in range(2)]
    for agent in agents:
        QueueMemberFactory(queue=queue, user=agent)
    SlaPolicyFactory(category="request", priority="", first_response_minutes=60, resolution_minutes=600)
    mailbox = Mailbox.objects.create(name="Billing", address="billing@relais.example", imap_host="localhost",
                                     username="billing", password="x", queue=queue)  # fmt: skip
    results = email_inbound_record_many(
        [build_message(message_id=f"<rr{n}@example.fr>") for n in range(2)], mailbox=mailbox
    )
    cases = [Case.objects.get(pk=result.case.pk) for result in results]
    assert {case.assignee_id for case in cases} == {agent.pk for agent in agents}
    for case in cases:
        assert case.queue == queue and case.status == CaseStatus.OPEN and case.channel == "email"
        expected = Case(category=case.category, priority=case.priority, created_at=case.created_at)
        case_sla_apply(expected)
        assert case.sla_policy_id == expected.sla_policy.pk
        assert (case.first_response_due_at, case.resolution_due_at) == (
            expected.first_response_due_at, expected.resolution_due_at,
        )  # fmt: skip


def test_the_reactions_run_once_per_interaction_after_commit(media, django_capture_on_commit_callbacks):
    seen = []
    interactions_service.interaction_hook_register(seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            results = email_inbound_record_many([build_message(message_id=f"<h{n}@example.fr>") for n in range(3)])
    finally:
        interactions_service._hooks.remove(seen.append)
    assert [i.pk for i in seen] == [r.interaction.pk for r in results]


def test_senders_are_matched_as_identity_resolution_matches_an_email(media):
    alone = CustomerFactory()
    EmailFactory(customer=alone, value="alone@example.fr")
    for _n in range(2):
        EmailFactory(customer=CustomerFactory(), value="shared@example.fr")
    survivor = CustomerFactory()
    merged = CustomerFactory(merged_into=survivor)
    EmailFactory(customer=merged, value="merged@example.fr")
    gone = CustomerFactory(anonymised_at=timezone.now())
    EmailFactory(customer=gone, value="gone@example.fr")
    addresses = ["alone@example.fr", "shared@example.fr", "merged@example.fr", "gone@example.fr", "nobody@x.fr",
                 "not an address"]  # fmt: skip
    found = customers_by_email(addresses)
    assert found == {"alone@example.fr": alone, "merged@example.fr": survivor}
    for address in addresses[:5]:
        assert identity_resolve(email=address).match == found.get(address)


def test_the_cached_email_cost_follows_a_change_of_the_channel_cost(media):
    first = email_inbound_record(raw=build_message(message_id="<c1@example.fr>")).interaction
    ChannelCost.objects.update_or_create(channel="email", defaults={"amount": Decimal("0.42")})
    second = email_inbound_record(raw=build_message(message_id="<c2@example.fr>")).interaction
    assert second.cost == Decimal("0.42") and first.cost != second.cost


def test_the_api_stores_a_batch_when_the_message_field_is_repeated(client, media, make_staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm import roles
    from crm.services import api_token_create

    user = make_staff(roles.INTEGRATION, username="mail-gateway")
    _token, key = api_token_create(user=user, name="Mail gateway", acting_user=user)
    files = [
        SimpleUploadedFile("1.eml", build_message(message_id="<api-b1@example.fr>"), "message/rfc822"),
        SimpleUploadedFile("2.eml", b"Subject: no sender\r\n\r\nx\r\n", "message/rfc822"),
        SimpleUploadedFile("3.eml", build_message(message_id="<api-b1@example.fr>"), "message/rfc822"),
    ]
    response = client.post("/api/v1/channels/email/inbound/", {"message": files}, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200, response.content
    first, refused, again = response.json()["results"]
    assert first["status"] == "created" and first["case_number"].startswith("CS-")
    assert refused["status"] == "rejected" and refused["error"]["code"] == "email_no_sender"
    assert again["status"] == "duplicate" and again["interaction"] == first["interaction"]
    assert Interaction.objects.count() == 1


def test_replies_in_a_batch_move_a_waiting_case_back_to_open_and_leave_an_open_one_alone(media):
    waiting = email_inbound_record(raw=build_message(message_id="<w1@example.fr>"))
    opened = email_inbound_record(raw=build_message(message_id="<o1@example.fr>"))
    Case.objects.filter(pk=waiting.case.pk).update(status=CaseStatus.WAITING)
    Case.objects.filter(pk=opened.case.pk).update(status=CaseStatus.OPEN)
    Conversation.objects.filter(pk=waiting.conversation.pk).update(status="closed", closed_at=timezone.now())
    before = Case.objects.get(pk=opened.case.pk).updated_at
    results = email_inbound_record_many(
        [build_message(message_id=f"<r{n}@example.fr>", in_reply_to=parent)
         for n, parent in enumerate(["<w1@example.fr>", "<o1@example.fr>", "<w1@example.fr>"])]
    )  # fmt: skip
    assert [r.case.pk for r in results] == [waiting.case.pk, opened.case.pk, waiting.case.pk]
    case = Case.objects.get(pk=waiting.case.pk)
    assert case.status == CaseStatus.OPEN and case.reopened_count == 0
    assert Case.objects.get(pk=opened.case.pk).updated_at == before
    thread = Conversation.objects.get(pk=waiting.conversation.pk)
    assert thread.status == "open" and thread.closed_at is None
    assert thread.last_message_at >= waiting.conversation.last_message_at
