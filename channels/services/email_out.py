"""Email out: an agent's reply (from the 360 page or a case) sent over SMTP and recorded on the thread.

``email_reply_send`` refuses a customer without a deliverable email address, renders nothing itself
(the agent sends the text they edited, perhaps from a ``ResponseTemplate`` rendered by
``email_template_render``), generates the Message-ID recorded as the interaction's ``external_id``, sets
In-Reply-To / References when replying in a thread (so the customer's answer threads back), sends
through Django's email backend (``EMAIL_URL``) and only then records the interaction, in one
transaction with the thread update and the case's first response.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from channels.choices import ConversationKind, ConversationStatus, Direction, InteractionChannel, InteractionKind
from channels.models import Case, Conversation, Interaction, Mailbox, ResponseTemplate
from channels.services.cases import case_agent_responded
from channels.services.interactions import interaction_record
from channels.services.templates import template_context, template_text_render
from crm.errors import ApplicationError
from customers.choices import ContactKind
from customers.models import ContactPoint, Customer

MAX_REFERENCES = 20


@dataclass
class ReplyThread:
    """Where a reply goes: its conversation (None: a new thread), the Message-IDs it answers, the sender."""

    conversation: Conversation | None
    in_reply_to: str
    references: list[str]
    from_email: str
    subject: str


# -- reads -------------------------------------------------------------------------------------------


def email_recipients(*, customer: Customer) -> list[ContactPoint]:
    """The customer's email addresses that can receive mail, primary first."""
    return list(
        customer.contact_points.filter(kind=ContactKind.EMAIL, is_undeliverable=False).order_by("-is_primary", "id")
    )


def email_thread_for(*, customer: Customer, case: Case | None = None,
                     conversation: Conversation | None = None) -> ReplyThread:  # fmt: skip
    """The thread a reply continues: the given conversation, else the case's email thread, else a new one.

    Raises ``ApplicationError`` when the conversation or case belongs to another customer.
    """
    if conversation is not None and conversation.customer_id not in (None, customer.pk):
        raise ApplicationError("wrong_customer", _("This conversation is another customer's."), field="conversation")
    if case is not None and case.customer_id not in (None, customer.pk):
        raise ApplicationError("wrong_customer", _("This case is another customer's."), field="case")
    if conversation is None and case is not None:
        conversation = (
            Conversation.objects.filter(case=case, kind=ConversationKind.EMAIL).order_by("-last_message_at").first()
        )
    if case is None and conversation is not None and conversation.case_id:
        case = conversation.case
    ids: list[str] = []
    in_reply_to = ""
    subject = ""
    if conversation is not None:
        emails = list(
            conversation.interactions.filter(channel=InteractionChannel.EMAIL)
            .exclude(external_id="")
            .order_by("occurred_at", "id")
            .values_list("external_id", "direction", "subject")
        )
        ids = [external_id for external_id, _direction, _subject in emails]
        inbound = [row for row in emails if row[1] == Direction.INBOUND]
        last = inbound[-1] if inbound else (emails[-1] if emails else None)
        if last is not None:
            in_reply_to, subject = last[0], last[2]
        subject = subject or conversation.subject
    elif case is not None:
        subject = f"[{case.number}] {case.subject}"
    return ReplyThread(
        conversation=conversation,
        in_reply_to=in_reply_to,
        references=ids[-MAX_REFERENCES:],
        from_email=_from_address(case=case, conversation=conversation),
        subject=_reply_subject(subject) if conversation is not None and subject else subject,
    )


def _reply_subject(subject: str) -> str:
    lowered = subject.lower()
    return subject if lowered.startswith(("re:", "re :", "aw:", "sv:")) else f"Re: {subject}"


def _from_address(*, case: Case | None, conversation: Conversation | None) -> str:
    """The queue's mailbox address (so replies come back to it), else ``DEFAULT_FROM_EMAIL``."""
    queue_id = (case.queue_id if case is not None else None) or (conversation.queue_id if conversation else None)
    if queue_id:
        mailbox = Mailbox.objects.filter(queue_id=queue_id, is_active=True).order_by("id").first()
        if mailbox is not None:
            return formataddr((mailbox.name, mailbox.address))
    return settings.DEFAULT_FROM_EMAIL


# -- templates ---------------------------------------------------------------------------------------


def email_template_render(*, template: ResponseTemplate, customer: Customer, agent=None,
                          case: Case | None = None) -> tuple[str, str]:  # fmt: skip
    """``(subject, body)`` of an email template for this customer: plain text the agent then edits."""
    if template.channel != "email" or not template.is_active:
        raise ApplicationError("invalid_template", _("Choose an active email template."), field="template")
    context = template_context(customer=customer, agent=agent, case=case)
    subject = template_text_render(template.subject, context=context, field="template") if template.subject else ""
    body = template_text_render(template.body, context=context, field="template")
    return " ".join(subject.split()), body


# -- sending -----------------------------------------------------------------------------------------


def email_reply_send(*, customer: Customer, subject: str, body: str, acting_user, to: ContactPoint | None = None,
                     case: Case | None = None, conversation: Conversation | None = None,
                     template: ResponseTemplate | None = None) -> Interaction:  # fmt: skip
    """Send ``body`` (plain text; an HTML alternative is derived) to the customer and record it.

    Preconditions: ``to`` (default: the primary deliverable address) is one of the customer's
    deliverable addresses; ``case`` / ``conversation`` are the customer's. Raises ``ApplicationError``
    (no_deliverable_email, required, wrong_customer, send_failed); nothing is recorded when sending fails.
    Side effects: an outbound interaction (external_id = the Message-ID), the conversation (created
    when new, linked to the case), ``case_agent_responded`` when it answers a case.
    """
    subject = " ".join((subject or "").split())[:200]
    body = (body or "").strip()
    if not subject:
        raise ApplicationError("required", _("Give the email a subject."), field="subject")
    if not body:
        raise ApplicationError("required", _("Write the message."), field="body")
    recipients = email_recipients(customer=customer)
    if not recipients:
        raise ApplicationError(
            "no_deliverable_email", _("%(name)s has no email address that can receive mail.")
            % {"name": customer.display_name}, field="to",
        )  # fmt: skip
    if to is None:
        to = recipients[0]
    elif to.pk not in {point.pk for point in recipients}:
        raise ApplicationError("undeliverable", _("This address cannot receive mail; choose another."), field="to")
    if not customer.is_live:
        raise ApplicationError("not_live", _("This customer was merged or anonymised."), field="to")
    thread = email_thread_for(customer=customer, case=case, conversation=conversation)
    if case is None and thread.conversation is not None and thread.conversation.case_id:
        case = thread.conversation.case

    domain = parseaddr(thread.from_email)[1].rpartition("@")[2] or "relais.invalid"
    message_id = make_msgid(domain=domain)
    headers = {"Message-ID": message_id}
    if thread.in_reply_to:
        headers["In-Reply-To"] = f"<{thread.in_reply_to}>"
        headers["References"] = " ".join(f"<{mid}>" for mid in thread.references)
    message = EmailMultiAlternatives(
        subject=subject, body=body, from_email=thread.from_email, to=[to.value], headers=headers,
        connection=get_connection(fail_silently=False),
    )  # fmt: skip
    html_body = linebreaks(escape(body))
    message.attach_alternative(html_body, "text/html")
    try:
        message.send()
    except (OSError, ValueError) as exc:  # smtplib errors are OSErrors; a refused address raises them too
        raise ApplicationError("send_failed", _("The email could not be sent: %(error)s") % {"error": exc},
                               field="to", status_code=502) from exc  # fmt: skip
    return _reply_record(customer=customer, agent=acting_user, subject=subject, html_body=html_body, to=to,
                         thread=thread, case=case, message_id=message_id.strip("<>"),
                         template=template)  # fmt: skip


@transaction.atomic
def _reply_record(*, customer, agent, subject, html_body, to, thread: ReplyThread, case, message_id, template):
    now = timezone.now()
    conversation = thread.conversation
    if conversation is None:
        conversation = Conversation.objects.create(
            customer=customer, kind=ConversationKind.EMAIL, subject=subject, case=case,
            queue=case.queue if case is not None else None, assignee=agent, created_at=now, last_message_at=now,
        )  # fmt: skip
    else:
        conversation = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
        if conversation.customer_id is None:
            from channels.services.email_in import thread_identify

            thread_identify(conversation, customer)
        conversation.last_message_at = now
        if conversation.status == ConversationStatus.CLOSED:
            conversation.status, conversation.closed_at = ConversationStatus.OPEN, None
        if conversation.case_id is None and case is not None:
            conversation.case = case
        conversation.save(update_fields=["last_message_at", "status", "closed_at", "case"])
    if case is not None and case.customer_id is None:
        Case.objects.filter(pk=case.pk, customer__isnull=True).update(customer=customer)
    interaction = interaction_record(
        channel=InteractionChannel.EMAIL,
        direction=Direction.OUTBOUND,
        kind=InteractionKind.EMAIL,
        customer=customer,
        agent=agent,
        occurred_at=now,
        subject=subject,
        body_html=html_body,
        case=case,
        conversation=conversation,
        external_id=message_id,
        metadata={
            "from": thread.from_email,
            "to": [to.value],
            "message_id": message_id,
            "in_reply_to": thread.in_reply_to,
            "references": thread.references,
            "template": template.name if template is not None else "",
        },
    )
    if case is not None:
        case_agent_responded(case, at=now)
    return interaction
