"""Email out: an agent's reply reaches a real SMTP server with threading headers and lands on the thread."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels.choices import CaseStatus
from channels.models import Case, Conversation, Interaction, Mailbox, ResponseTemplate
from channels.services.email_in import email_inbound_record
from tests.channels import email_support
from tests.channels.email_support import build_message
from tests.channels_factories import CaseFactory, QueueFactory, SlaPolicyFactory
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db
media = email_support.media


@pytest.fixture
def customer():
    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    EmailFactory(customer=customer, value="heloise@example.fr", is_primary=True)
    return customer


@pytest.fixture
def thread(customer, media):
    """An inbound email from the customer in the Billing queue, whose mailbox is billing@relais.example."""
    SlaPolicyFactory()
    queue = QueueFactory(name="Billing")
    Mailbox.objects.create(name="Relais Billing", address="billing@relais.example", imap_host="localhost",
                           username="billing", password="x", queue=queue)  # fmt: skip
    mailbox = Mailbox.objects.get()
    return email_inbound_record(raw=build_message(subject="Ma facture", message_id="<in-1@example.fr>"),
                                mailbox=mailbox)  # fmt: skip


def test_a_reply_in_a_thread_is_received_by_smtp_with_threading_headers(client, agent, customer, thread, smtp_sink):
    client.force_login(agent)
    url = reverse("channels:email_compose", kwargs={"pk": customer.pk}) + f"?case={thread.case.pk}"
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["subject"] == "Re: Ma facture"
    assert page.context["form"].initial["conversation"] == thread.conversation

    response = client.post(url, {
        "to": customer.contact_points.get().pk, "case": thread.case.pk, "conversation": thread.conversation.pk,
        "subject": "Re: Ma facture", "body": "Bonjour,\nVotre facture est corrigée.\n\n<script>x</script>",
    })  # fmt: skip
    assert response.status_code == 302
    assert response.url == reverse("channels:email_thread", kwargs={"pk": thread.conversation.pk})

    [envelope] = smtp_sink.envelopes
    assert envelope.rcpt_tos == ["heloise@example.fr"]
    [message] = smtp_sink.messages()
    assert message["From"] == "Relais Billing <billing@relais.example>"
    assert message["To"] == "heloise@example.fr"
    assert message["In-Reply-To"] == "<in-1@example.fr>"
    assert message["References"] == "<in-1@example.fr>"
    assert message["Message-ID"].endswith("@relais.example>")
    assert "Votre facture est corrigée." in message.get_body(("plain",)).get_content()
    assert "&lt;script&gt;" in message.get_body(("html",)).get_content()

    sent = Interaction.objects.get(direction="outbound")
    assert sent.external_id == message["Message-ID"].strip("<>")
    assert sent.agent == agent and sent.customer == customer
    assert sent.case == thread.case and sent.conversation == thread.conversation
    case = Case.objects.get(pk=thread.case.pk)
    assert case.first_responded_at is not None and case.status == CaseStatus.OPEN


def test_the_customer_answer_to_a_reply_threads_back(client, agent, customer, thread, smtp_sink):
    from channels.services.email_out import email_reply_send

    sent = email_reply_send(customer=customer, subject="Re: Ma facture", body="Corrigé.", acting_user=agent,
                            case=thread.case)  # fmt: skip
    answer = email_inbound_record(
        raw=build_message(
            subject="Re: Re: Ma facture",
            message_id="<in-2@example.fr>",
            in_reply_to=f"<{sent.external_id}>",
            references=f"<in-1@example.fr> <{sent.external_id}>",
        )  # fmt: skip
    )
    assert answer.conversation.pk == thread.conversation.pk and answer.case.pk == thread.case.pk
    assert Case.objects.count() == 1


def test_a_new_email_from_the_customer_page_uses_a_template(client, agent, customer, smtp_sink, media):
    template = ResponseTemplate.objects.create(
        channel="email", name="Welcome", language="fr", subject="Bienvenue {{ customer.given_name }}",
        body="Bonjour {{ customer.display_name }},\n\nJe suis {{ agent.first_name }}, votre conseillère.",
    )  # fmt: skip
    agent.first_name = "Léa"
    agent.save()
    client.force_login(agent)
    url = reverse("channels:email_compose", kwargs={"pk": customer.pk})
    page = client.get(url, {"template": template.pk})
    initial = page.context["form"].initial
    assert initial["subject"] == "Bienvenue Héloïse"
    assert initial["body"] == "Bonjour Héloïse Lefèvre,\n\nJe suis Léa, votre conseillère."

    response = client.post(url, {"to": customer.contact_points.get().pk, "template": template.pk,
                                 "subject": initial["subject"], "body": initial["body"] + " À bientôt."})  # fmt: skip
    assert response.status_code == 302
    [message] = smtp_sink.messages()
    assert message["From"] == "Relais <relais@localhost>"  # no queue: DEFAULT_FROM_EMAIL
    assert message["In-Reply-To"] is None
    sent = Interaction.objects.get()
    assert sent.metadata["template"] == "Welcome" and sent.conversation.kind == "email"
    assert "À bientôt." in sent.body


def test_it_refuses_a_customer_without_a_deliverable_email(client, agent, smtp_sink):
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="gone@example.fr", is_undeliverable=True)
    client.force_login(agent)
    url = reverse("channels:email_compose", kwargs={"pk": customer.pk})
    page = client.get(url)
    assert b'data-testid="no-email"' in page.content
    response = client.post(url, {"subject": "Hello", "body": "Text"})
    assert response.status_code == 200
    assert smtp_sink.envelopes == [] and Interaction.objects.count() == 0

    from channels.services.email_out import email_reply_send
    from crm.errors import ApplicationError

    with pytest.raises(ApplicationError) as error:
        email_reply_send(customer=customer, subject="Hello", body="Text", acting_user=agent)
    assert error.value.code == "no_deliverable_email" and error.value.field == "to"


def test_a_failed_send_records_nothing(client, agent, customer, settings):
    from tests.channels.email_dovecot import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    settings.EMAIL_TIMEOUT = 2
    client.force_login(agent)
    url = reverse("channels:email_compose", kwargs={"pk": customer.pk})
    response = client.post(url, {"to": customer.contact_points.get().pk, "subject": "Hello", "body": "Text"})
    assert response.status_code == 200
    assert "could not be sent" in response.content.decode()
    assert Interaction.objects.count() == Conversation.objects.count() == 0


def test_a_case_or_thread_of_another_customer_cannot_be_used(client, agent, customer, media):
    other_case = CaseFactory()
    client.force_login(agent)
    url = reverse("channels:email_compose", kwargs={"pk": customer.pk})
    assert client.get(url, {"case": other_case.pk}).status_code == 404
    response = client.post(url, {"to": customer.contact_points.get().pk, "case": other_case.pk, "subject": "x",
                                 "body": "y"})  # fmt: skip
    assert response.status_code == 200 and response.context["form"].errors["case"]
    assert Interaction.objects.count() == 0


def test_who_may_compose_read_threads_and_download_attachments(client, agent, marketer, make_staff, customer, media):
    from tests.channels.email_support import corpus

    result = email_inbound_record(raw=corpus("nested_with_attachments.eml"))
    attachment = result.interaction.attachments.get(filename="photo.png")
    compose = reverse("channels:email_compose", kwargs={"pk": customer.pk})
    thread_url = reverse("channels:email_thread", kwargs={"pk": result.conversation.pk})
    download = reverse("channels:email_attachment", kwargs={"pk": attachment.pk})

    outsider = make_staff(None, username="no.role")
    client.force_login(outsider)
    for url in (compose, thread_url, download):
        response = client.get(url)
        assert response.status_code == 403 and b"colis" not in response.content

    client.force_login(marketer)  # reads the timeline, does not write to customers
    assert client.get(compose).status_code == 403
    assert client.get(thread_url).status_code == 200

    client.force_login(agent)
    page = client.get(thread_url)
    assert page.status_code == 200
    assert "Le colis est arrivé <b>abîmé</b>" in page.content.decode()
    assert "invoice.pdf.exe was not kept" in page.content.decode()
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_the_thread_page_lists_messages_in_order_with_queries_bounded(client, agent, customer, thread,
                                                                      django_assert_max_num_queries):  # fmt: skip
    for n in range(2, 8):
        raw = build_message(message_id=f"<in-{n}@example.fr>", in_reply_to=f"<in-{n - 1}@example.fr>",
                            body=f"Message number {n}")  # fmt: skip
        email_inbound_record(raw=raw)
    client.force_login(agent)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("channels:email_thread", kwargs={"pk": thread.conversation.pk}))
    body = page.content.decode()
    assert body.count('data-testid="email-message"') == 7
    assert body.index("Message number 2") < body.index("Message number 7")
