"""Email in: parsing a corpus of tricky messages, threading, cases, auto-replies, bounces, the API."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from channels.choices import CaseStatus, Direction
from channels.models import Attachment, Case, Conversation, Interaction
from channels.services.email_in import email_inbound_record
from crm import roles
from crm.errors import ApplicationError
from crm.services import api_token_create
from tests.channels import email_support
from tests.channels.email_support import CORPUS, build_message, corpus, cpython_corpus
from tests.channels_factories import QueueFactory
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db
media = email_support.media
integration_token = email_support.integration_token

CORPUS_FILES = sorted(CORPUS.glob("*.eml")) + cpython_corpus()


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_message_of_the_corpus_is_stored_or_rejected_with_a_reason(path, media):
    raw = path.read_bytes()
    try:
        result = email_inbound_record(raw=raw)
    except ApplicationError as exc:
        assert exc.code.startswith("email_") and exc.field == "message" and len(exc.message) > 10
        assert Interaction.objects.count() == 0
        return
    stored = Interaction.objects.get(pk=result.interaction.pk)
    assert stored.channel == "email" and stored.direction == Direction.INBOUND and stored.external_id
    assert "<script" not in stored.body.lower() and "onerror" not in stored.body.lower()


def test_a_latin1_message_with_encoded_subject_is_decoded(media):
    result = email_inbound_record(raw=corpus("latin1_quoted_printable.eml"))
    interaction = result.interaction
    assert interaction.subject == "Problème de facturation à régler"
    assert "Ma facture de février est fausse" in interaction.body
    assert interaction.metadata["from"] == "heloise@example.fr"
    assert interaction.external_id == "latin1-001@example.fr"
    assert interaction.occurred_at == datetime.datetime(2026, 11, 2, 9, 15, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    "name, text",
    [
        ("windows1252_8bit.eml", "“devis” demandé — merci ! Coût : 12 €"),
        ("iso2022jp.eml", "お問い合わせありがとうございます。"),
        ("unknown_charset.eml", "Café crème"),
    ],
)
def test_non_utf8_charsets_are_read(name, text, media):
    assert text in email_inbound_record(raw=corpus(name)).interaction.body


def test_html_only_email_with_scripts_is_sanitised(media):
    body = email_inbound_record(raw=corpus("html_only_with_scripts.eml")).interaction.body
    assert "<b>ORD-42</b>" in body
    for dangerous in ("<script", "onload", "onerror", "javascript:", "<iframe", "<svg", "<style", "__xss"):
        assert dangerous not in body.lower()


def test_attachments_are_stored_and_executables_dropped_with_a_note(media):
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="marie.dupont@example.fr")
    result = email_inbound_record(raw=corpus("nested_with_attachments.eml"))
    interaction = result.interaction
    assert interaction.customer == customer
    assert interaction.subject == "Réclamation : colis abimé"
    assert interaction.metadata["to"] == ["support@relais.example", "other@relais.example"]
    assert interaction.metadata["cc"] == ["boss@example.fr"]
    kept = {a.filename: a for a in Attachment.objects.filter(interaction=interaction)}
    assert set(kept) == {"photo.png", "facture février.pdf"}
    assert kept["facture février.pdf"].file.read().startswith(b"%PDF-1.4")
    assert all(a.customer_id == customer.pk for a in kept.values())
    dropped = {d["filename"]: d["reason"] for d in interaction.metadata["dropped_attachments"]}
    assert set(dropped) == {"invoice.pdf.exe", "readme.pdf"}  # the second is a program renamed .pdf
    assert all("executable" in reason for reason in dropped.values())


def test_an_attachment_over_the_size_limit_is_dropped_and_the_message_kept(media, settings):
    settings.EMAIL_ATTACHMENT_MAX_BYTES = 20
    result = email_inbound_record(raw=corpus("nested_with_attachments.eml"))
    assert Attachment.objects.filter(interaction=result.interaction).count() == 0
    reasons = [d["reason"] for d in result.interaction.metadata["dropped_attachments"]]
    assert any("larger than 20 bytes" in reason for reason in reasons)


def test_a_message_over_the_size_limit_is_rejected_with_nothing_written(settings):
    settings.EMAIL_INBOUND_MAX_BYTES = 200
    with pytest.raises(ApplicationError) as error:
        email_inbound_record(raw=build_message(body="x" * 500))
    assert error.value.code == "email_too_large"
    assert Interaction.objects.count() == Case.objects.count() == Conversation.objects.count() == 0


def test_a_message_without_message_id_gets_a_stable_one_and_is_stored_once(media):
    first = email_inbound_record(raw=corpus("no_message_id.eml"))
    again = email_inbound_record(raw=b"Received: from relay by mx; Sat, 07 Nov 2026\r\n" + corpus("no_message_id.eml"))
    assert first.status == "created" and again.status == "duplicate"
    assert first.interaction.external_id.endswith("@synthesised.relais.invalid")
    assert Interaction.objects.count() == 1


def test_the_same_message_posted_twice_is_stored_once(media):
    raw = build_message(message_id="<twice@example.fr>")
    first = email_inbound_record(raw=raw)
    second = email_inbound_record(raw=raw)
    assert (first.status, second.status) == ("created", "duplicate")
    assert second.interaction.pk == first.interaction.pk
    assert Interaction.objects.count() == 1 and Case.objects.count() == 1


def test_a_new_message_opens_a_case_in_the_mailbox_queue_for_the_matched_customer(media):
    from channels.models import Mailbox

    customer = CustomerFactory()
    EmailFactory(customer=customer, value="heloise@example.fr")
    queue = QueueFactory(name="Billing")
    mailbox = Mailbox.objects.create(name="Billing", address="billing@relais.example", imap_host="localhost",
                                     username="billing", password="x", queue=queue)  # fmt: skip
    result = email_inbound_record(raw=build_message(sender="Héloïse <HELOISE@example.fr>"), mailbox=mailbox)
    assert result.status == "created"
    case = result.case
    assert case.customer == customer and case.queue == queue and case.channel == "email"
    assert case.subject == "Ma commande"
    assert result.conversation.kind == "email" and result.conversation.case == case
    assert result.conversation.customer == customer
    assert result.interaction.case == case and result.interaction.conversation == result.conversation
    assert result.interaction.metadata["mailbox"] == "billing@relais.example"


def test_a_reply_threads_into_the_conversation_and_reopens_its_resolved_case(media):
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="heloise@example.fr")
    first = email_inbound_record(raw=build_message(message_id="<m1@example.fr>"))
    Case.objects.filter(pk=first.case.pk).update(status=CaseStatus.RESOLVED)
    reply = email_inbound_record(
        raw=build_message(
            subject="Re: Ma commande",
            message_id="<m2@example.fr>",
            in_reply_to="<m1@example.fr>",
            references="<m1@example.fr>",
        )  # fmt: skip
    )
    assert reply.conversation.pk == first.conversation.pk
    assert reply.case.pk == first.case.pk
    case = Case.objects.get(pk=first.case.pk)
    assert case.status == CaseStatus.OPEN and case.reopened_count == 1
    assert Case.objects.count() == 1
    assert list(first.conversation.interactions.order_by("id").values_list("external_id", flat=True)) == [
        "m1@example.fr",
        "m2@example.fr",
    ]


def test_references_thread_a_message_whose_parent_is_unknown(media):
    first = email_inbound_record(raw=build_message(message_id="<root@example.fr>"))
    later = email_inbound_record(
        raw=build_message(
            message_id="<m3@example.fr>",
            in_reply_to="<unknown@example.fr>",
            references="<root@example.fr> <unknown@example.fr>",
        )  # fmt: skip
    )
    assert later.conversation.pk == first.conversation.pk


def test_a_reply_from_an_identified_sender_identifies_the_whole_thread(media):
    first = email_inbound_record(raw=build_message(sender="new@example.fr", message_id="<n1@example.fr>"))
    assert first.interaction.customer is None and first.case.customer is None
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="known@example.fr")
    email_inbound_record(raw=build_message(sender="known@example.fr", message_id="<n2@example.fr>",
                                           in_reply_to="<n1@example.fr>"))  # fmt: skip
    assert Conversation.objects.get(pk=first.conversation.pk).customer == customer
    assert Case.objects.get(pk=first.case.pk).customer == customer
    assert set(Interaction.objects.values_list("customer_id", flat=True)) == {customer.pk}


def test_quoted_history_is_trimmed_for_display_and_kept_in_full(media):
    result = email_inbound_record(raw=corpus("gmail_reply_quoted.eml"))
    interaction = result.interaction
    assert "Merci, c'est réglé." in interaction.body
    assert "votre facture a été corrigée" not in interaction.body
    assert "votre facture a été corrigée" in interaction.metadata["full_body"]


def test_plain_text_quotes_are_trimmed(media):
    raw = build_message(
        body="Oui, merci.\n\nOn Mon, 9 Nov 2026 at 18:00, Support <s@relais.example> wrote:\n> Old text"
    )
    body = email_inbound_record(raw=raw).interaction.body
    assert "Oui, merci." in body and "Old text" not in body


def test_an_out_of_office_reply_is_stored_on_its_thread_without_opening_a_case(media):
    first = email_inbound_record(
        raw=build_message(sender="paul.durand@example.fr", message_id="<relais-out-001@relais.example>")
    )
    Case.objects.filter(pk=first.case.pk).update(status=CaseStatus.RESOLVED)
    result = email_inbound_record(raw=corpus("auto_reply_out_of_office.eml"))
    assert result.status == "auto_reply"
    assert result.conversation.pk == first.conversation.pk
    assert Case.objects.count() == 1 and Case.objects.get().status == CaseStatus.RESOLVED
    assert result.interaction.outcome == "auto_reply"


@pytest.mark.parametrize(
    "headers, subject",
    [
        ({"Precedence": "bulk"}, "Newsletter"),
        ({"Precedence": "auto_reply"}, "Hello"),
        ({}, "Out of Office: back on Monday"),
        ({"X-Autorespond": "yes"}, "Hello"),
    ],
)
def test_auto_replies_open_no_case(headers, subject, media):
    result = email_inbound_record(raw=build_message(subject=subject, headers=headers))
    assert result.status == "auto_reply" and result.case is None
    assert Case.objects.count() == 0


def test_a_delivery_status_bounce_marks_the_address_undeliverable_and_opens_no_case(media):
    customer = CustomerFactory()
    point = EmailFactory(customer=customer, value="gone@example.fr")
    result = email_inbound_record(raw=corpus("bounce_delivery_status.eml"))
    assert result.status == "bounce" and result.undeliverable == ["gone@example.fr"]
    point.refresh_from_db()
    assert point.is_undeliverable and point.undeliverable_at is not None
    assert "5.1.1" in point.undeliverable_reason and "User unknown" in point.undeliverable_reason
    assert Case.objects.count() == 0
    assert result.interaction.customer == customer and result.interaction.outcome == "bounced"


def test_a_mailer_daemon_bounce_without_a_report_marks_the_failed_recipient(media):
    point = EmailFactory(value="old.address@example.com")
    result = email_inbound_record(raw=corpus("bounce_exim_plain.eml"))
    assert result.status == "bounce"
    point.refresh_from_db()
    assert point.is_undeliverable
    assert Case.objects.count() == 0


# -- the API -----------------------------------------------------------------------------------------

URL = "/api/v1/channels/email/inbound/"


def test_the_documented_url_refuses_a_caller_without_the_gateways_token(client, make_staff, media):
    # The mail gateway is configured with the URL of docs/channels/email.md and an Integration token.
    assert reverse("api_v1_email_inbound") == URL
    assert f"## API: `POST {URL}`" in (settings.BASE_DIR / "docs/channels/email.md").read_text()
    raw = build_message(message_id="<api-0@example.fr>")

    anonymous = client.post(URL, data=raw, content_type="message/rfc822")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["status"] == 401
    agent = make_staff(roles.AGENT, username="agent.mail")
    _token, key = api_token_create(user=agent, name="Mine", acting_user=agent)
    refused = client.post(URL, data=raw, content_type="message/rfc822", HTTP_AUTHORIZATION=f"Token {key}")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert not Interaction.objects.exists() and not Case.objects.exists()


def test_the_api_stores_a_raw_message_posted_as_message_rfc822(client, integration_token, media):
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="heloise@example.fr")
    raw = build_message(message_id="<api-1@example.fr>")
    auth = {"HTTP_AUTHORIZATION": f"Token {integration_token}"}
    response = client.post(URL, data=raw, content_type="message/rfc822", **auth)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "created" and body["message_id"] == "api-1@example.fr"
    assert body["customer"] == customer.pk
    case = Case.objects.get(pk=body["case"])
    assert body["case_number"] == case.number and body["conversation"] == case.conversations.get().pk

    again = client.post(URL, data=raw, content_type="message/rfc822", **auth)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["interaction"] == body["interaction"]
    assert Interaction.objects.count() == 1


def test_the_api_accepts_a_multipart_form_field(client, integration_token, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("message.eml", corpus("nested_with_attachments.eml"), "message/rfc822")
    response = client.post(URL, {"message": upload}, HTTP_AUTHORIZATION=f"Token {integration_token}")
    assert response.status_code == 201, response.content
    assert [d["filename"] for d in response.json()["dropped_attachments"]] == ["invoice.pdf.exe", "readme.pdf"]


def test_the_api_rejects_what_is_not_an_email_with_a_reason(client, integration_token):
    response = client.post(URL, data=corpus("not_an_email.eml"), content_type="message/rfc822",
                           HTTP_AUTHORIZATION=f"Token {integration_token}")  # fmt: skip
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "email_no_headers"
    assert error["fields"]["message"][0]["message"] == "This is not an email: it has no header lines."
    missing = client.post(URL, {"other": "x"}, HTTP_AUTHORIZATION=f"Token {integration_token}")
    assert missing.status_code == 400 and missing.json()["error"]["fields"]["message"][0]["code"] == "required"
    assert Interaction.objects.count() == 0


def test_only_callers_with_the_ingest_permission_may_post(client, agent, admin_staff):
    raw = build_message()
    assert client.post(URL, data=raw, content_type="message/rfc822").status_code == 401
    for user in (agent, admin_staff):
        client.force_login(user)
        response = client.post(URL, data=raw, content_type="message/rfc822")
        assert response.status_code == 403
    assert Interaction.objects.count() == 0


def test_the_api_takes_a_message_larger_than_djangos_request_body_limit(client, integration_token, media):
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "big@example.fr", "Plans", "<big@example.fr>"
    message.set_content("The plans are attached.")
    message.add_attachment(
        b"%PDF-1.4\n" + b"0" * 4_000_000, maintype="application", subtype="pdf", filename="plans.pdf"
    )
    response = client.post(URL, data=message.as_bytes(), content_type="message/rfc822",
                           HTTP_AUTHORIZATION=f"Token {integration_token}")  # fmt: skip
    assert response.status_code == 201, response.content
    assert Attachment.objects.get().size == 4_000_009


def _mutations(count: int):
    """Corpus messages damaged the ways real mail gets damaged: truncated, bytes flipped, NULs and
    control characters inserted, header lines dropped or duplicated (a fixed seed: reproducible)."""
    import random

    rng = random.Random(5)
    sources = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml")) if path.stat().st_size > 100]
    for n in range(count):
        raw = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 6)):
            if len(raw) < 2:
                break
            operation = rng.randrange(5)
            position = rng.randrange(len(raw))
            if operation == 0:
                raw = raw[: max(position, 20)]
            elif operation == 1:
                raw[position] = rng.randrange(256)
            elif operation == 2:
                raw[position:position] = rng.choice(
                    [b"\x00", b"\x1b[0m", b"\r\n\r\n", b"=?utf-8?B?", b"\xff\xfe", b"--"]
                )
            elif operation == 3:
                lines = raw.split(b"\n")
                del lines[rng.randrange(len(lines))]
                raw = bytearray(b"\n".join(lines))
            else:
                lines = raw.split(b"\n")
                index = rng.randrange(len(lines))
                lines.insert(index, lines[index])
                raw = bytearray(b"\n".join(lines))
        yield f"mutation-{n}", (bytes(raw) + f"\nX-Fuzz: {n}\n".encode()).replace(b"Message-ID", b"X-Old-Id")


def test_damaged_messages_are_stored_or_rejected_never_crashing(media):
    stored = rejected = 0
    for _name, raw in _mutations(120):
        try:
            interaction = email_inbound_record(raw=raw).interaction
        except ApplicationError as exc:
            assert exc.code.startswith("email_") and exc.message
            rejected += 1
        else:
            interaction.refresh_from_db()
            assert "\x00" not in interaction.subject + interaction.body
            stored += 1
    assert stored + rejected == 120 and stored > 60


@pytest.mark.parametrize("field", ["body-mime", "email"])
def test_the_api_accepts_the_fields_mailgun_and_sendgrid_post(field, client, integration_token, media):
    raw = build_message(message_id=f"<{field}@example.fr>").decode()
    response = client.post(URL, {field: raw, "sender": "heloise@example.fr"},
                           HTTP_AUTHORIZATION=f"Token {integration_token}")  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["message_id"] == f"{field}@example.fr"


def test_outlooks_auto_response_suppress_header_alone_is_not_an_auto_reply(media):
    result = email_inbound_record(raw=build_message(headers={"X-Auto-Response-Suppress": "All"}))
    assert result.status == "created" and result.case is not None
