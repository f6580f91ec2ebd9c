"""Email in: one raw message (API post or IMAP fetch) becomes one interaction on the right thread.

``email_inbound_record(raw=..., mailbox=...)`` parses the message, threads it by Message-ID /
In-Reply-To / References into an email ``Conversation``, matches the sender through identity
resolution, attaches it to the thread's open case (reopening it) or opens a new case in the mailbox's
queue, stores the attachments, and records the interaction. Auto-replies are stored on their thread but
open no case; bounces mark the failed address undeliverable and open no case. Idempotent on Message-ID.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.choices import ConversationKind, ConversationStatus, Direction, InteractionChannel, InteractionKind
from channels.models import Attachment, Case, ChatMessage, Conversation, Interaction, Mailbox
from channels.models.interactions import attachment_path
from channels.services.cases import case_customer_replied, case_open
from channels.services.email_parse import EmailRejected, ParsedEmail, email_parse
from channels.services.interactions import channel_cost, html_sanitise, interaction_record
from crm.errors import ApplicationError
from customers.choices import ContactKind
from customers.models import ContactPoint, Customer

CREATED, DUPLICATE, AUTO_REPLY, BOUNCE = "created", "duplicate", "auto_reply", "bounce"


@dataclass
class InboundResult:
    """What happened to one message: ``status`` is created, duplicate, auto_reply or bounce."""

    status: str
    interaction: Interaction
    conversation: Conversation | None = None
    case: Case | None = None
    dropped: list[dict] = field(default_factory=list)
    undeliverable: list[str] = field(default_factory=list)


def email_inbound_parse(raw: bytes) -> ParsedEmail:
    """Parse with the configured limits; ``ApplicationError`` (field ``message``) when rejected."""
    try:
        return email_parse(
            raw,
            max_bytes=settings.EMAIL_INBOUND_MAX_BYTES,
            max_attachment_bytes=settings.EMAIL_ATTACHMENT_MAX_BYTES,
        )
    except EmailRejected as exc:
        raise ApplicationError(f"email_{exc.code}", exc.reason, field="message") from exc


def email_inbound_record(*, raw: bytes, mailbox: Mailbox | None = None, source: str = "api") -> InboundResult:
    """Store one inbound message; return what was done with it.

    Raises ``ApplicationError`` (code ``email_<reason>``, field ``message``) when the message cannot be
    stored at all; nothing is written then. Posting the same message twice (same Message-ID, or the
    same synthesised id for a message without one) stores it once and returns ``duplicate``.
    Attachment files are written to the default storage, content-addressed (one file per content).
    """
    parsed = email_inbound_parse(raw)
    with transaction.atomic():
        # Two deliveries of one message at the same time (API retry + IMAP) must not both store it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 5))", [parsed.message_id])
        existing = (
            Interaction.objects.filter(
                channel=InteractionChannel.EMAIL, direction=Direction.INBOUND, external_id=parsed.message_id
            )
            .select_related("conversation", "case")
            .first()
        )
        if existing is not None:
            return InboundResult(DUPLICATE, existing, existing.conversation, existing.case)
        if parsed.is_bounce:
            return _record_bounce(parsed, mailbox=mailbox, source=source)
        return _record_message(parsed, mailbox=mailbox, source=source)


def _metadata(parsed: ParsedEmail, *, mailbox: Mailbox | None, source: str) -> dict:
    metadata = {
        "from": parsed.from_address,
        "from_name": parsed.from_name,
        "to": parsed.to,
        "cc": parsed.cc,
        "reply_to": parsed.reply_to,
        "date": parsed.date_header,
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to[0] if parsed.in_reply_to else "",
        "references": parsed.references,
        "source": source,
    }
    if mailbox is not None:
        metadata["mailbox"] = mailbox.address
    if parsed.message_id_synthesised:
        metadata["message_id_synthesised"] = True
    if parsed.dropped:
        metadata["dropped_attachments"] = parsed.dropped
    if parsed.body_html != parsed.display_html:
        metadata["full_body"] = parsed.body_html  # already sanitised
    if parsed.is_auto_reply:
        metadata["auto_reply"] = True
    return metadata


_cost_cache: dict[str, tuple[float, Decimal]] = {}
COST_CACHE_SECONDS = 60


def _email_cost() -> Decimal:
    """The email channel's cost, read at most once a minute per process (one query less per message)."""
    cached = _cost_cache.get("email")
    if cached is None or time.monotonic() - cached[0] > COST_CACHE_SECONDS:
        cached = (time.monotonic(), channel_cost(InteractionChannel.EMAIL)[0])
        _cost_cache["email"] = cached
    return cached[1]


def _customer_for(address: str) -> Customer | None:
    from customers.services.identity import identity_resolve

    try:
        return identity_resolve(email=address).match
    except ApplicationError:
        return None  # an address identity resolution cannot read: the sender stays unidentified


def _thread_for(parsed: ParsedEmail) -> Conversation | None:
    ids = parsed.thread_ids
    if not ids:
        return None
    rows = (
        Interaction.objects.filter(channel=InteractionChannel.EMAIL, external_id__in=ids, conversation__isnull=False)
        .values_list("external_id", "conversation_id")
        .order_by("-occurred_at")
    )
    by_id = {}
    for external_id, conversation_id in rows:
        by_id.setdefault(external_id, conversation_id)
    for mid in ids:  # the direct parent wins over older references
        if mid in by_id:
            return Conversation.objects.select_for_update(of=("self",)).select_related("case").get(pk=by_id[mid])
    return None


def thread_identify(conversation: Conversation, customer: Customer) -> None:
    """Give a thread not identified yet its customer: conversation, case, interactions, attachments and
    chat messages move together (the composite keys are checked at commit)."""
    Conversation.objects.filter(pk=conversation.pk, customer__isnull=True).update(customer=customer)
    conversation.customer = customer
    if conversation.case_id:
        Case.objects.filter(pk=conversation.case_id, customer__isnull=True).update(customer=customer)
    interaction_ids = list(
        Interaction.objects.filter(conversation=conversation, customer__isnull=True).values_list("id", flat=True)
    )
    Interaction.objects.filter(pk__in=interaction_ids).update(customer=customer)
    Attachment.objects.filter(interaction_id__in=interaction_ids, customer__isnull=True).update(customer=customer)
    ChatMessage.objects.filter(conversation=conversation, customer__isnull=True).update(customer=customer)


def _record_message(parsed: ParsedEmail, *, mailbox: Mailbox | None, source: str) -> InboundResult:
    now = timezone.now()
    occurred_at = parsed.date or now
    customer = _customer_for(parsed.from_address)
    conversation = _thread_for(parsed)
    queue = mailbox.queue if mailbox is not None else None
    if conversation is None:
        # A new thread: its case first, so the conversation is written once, already linked.
        case = None
        if not parsed.is_auto_reply:
            case = case_open(
                subject=parsed.subject or _("Email from %(sender)s") % {"sender": parsed.from_address},
                channel=InteractionChannel.EMAIL,
                customer=customer,
                description=parsed.summary,
                queue=queue,
            )
        conversation = Conversation.objects.create(
            customer=customer,
            kind=ConversationKind.EMAIL,
            subject=parsed.subject,
            case=case,
            queue=case.queue if case is not None else queue,
            visitor_name=parsed.from_name,
            visitor_email=parsed.from_address,
            created_at=now,
            last_message_at=now,
        )
    else:
        if conversation.customer_id is None and customer is not None:
            thread_identify(conversation, customer)
        # In an identified thread the message belongs to the thread's customer (a colleague in copy
        # writing back does not move the case).
        customer = conversation.customer if conversation.customer_id else customer
        case = conversation.case if conversation.case_id else None
        if not parsed.is_auto_reply:
            # The thread's case, open or not: a reply to a resolved or closed case reopens it.
            if case is not None:
                case = case_customer_replied(case)
            else:
                case = case_open(
                    subject=parsed.subject or _("Email from %(sender)s") % {"sender": parsed.from_address},
                    channel=InteractionChannel.EMAIL,
                    customer=customer,
                    description=parsed.summary,
                    queue=queue or conversation.queue,
                )
                conversation.case = case
            if conversation.status == ConversationStatus.CLOSED:
                conversation.status, conversation.closed_at = ConversationStatus.OPEN, None
        conversation.last_message_at = now
        conversation.save(update_fields=["case", "last_message_at", "status", "closed_at"])

    interaction = interaction_record(
        channel=InteractionChannel.EMAIL,
        direction=Direction.INBOUND,
        kind=InteractionKind.EMAIL,
        customer=customer,
        occurred_at=occurred_at,
        subject=parsed.subject,
        body_html=parsed.display_html,
        summary=parsed.summary,
        outcome="auto_reply" if parsed.is_auto_reply else "",
        case=case,
        conversation=conversation,
        external_id=parsed.message_id,
        metadata=_metadata(parsed, mailbox=mailbox, source=source),
        cost=_email_cost(),
    )
    _store_attachments(parsed, interaction)
    return InboundResult(AUTO_REPLY if parsed.is_auto_reply else CREATED, interaction, conversation, case,
                         dropped=parsed.dropped)  # fmt: skip


def _record_bounce(parsed: ParsedEmail, *, mailbox: Mailbox | None, source: str) -> InboundResult:
    from customers.services.records import contact_point_mark_undeliverable

    addresses = [recipient.address for recipient in parsed.bounced]
    points = {
        point.value: point
        for point in ContactPoint.objects.filter(kind=ContactKind.EMAIL, value__in=addresses).select_related("customer")
    }
    marked, customers = [], set()
    for recipient in parsed.bounced:
        for value, point in points.items():
            if value != recipient.address:
                continue
            reason = " ".join(filter(None, [recipient.status, recipient.diagnostic])) or _("Delivery failed")
            contact_point_mark_undeliverable(contact_point=point, reason=_("Bounced: %(reason)s") % {"reason": reason})
            marked.append(point.value)
            customers.add(point.customer_id)
    customer = points[marked[0]].customer if len(customers) == 1 else None
    metadata = _metadata(parsed, mailbox=mailbox, source=source)
    metadata["bounce"] = [
        {"address": r.address, "status": r.status, "diagnostic": r.diagnostic, "marked": r.address in marked}
        for r in parsed.bounced
    ]
    interaction = interaction_record(
        channel=InteractionChannel.EMAIL,
        direction=Direction.INBOUND,
        kind=InteractionKind.EMAIL,
        customer=customer,
        occurred_at=parsed.date or timezone.now(),
        subject=parsed.subject or _("Delivery failure"),
        body_html=parsed.display_html,
        summary=_("Delivery failed for %(addresses)s") % {"addresses": ", ".join(addresses) or _("an unknown address")},
        outcome="bounced",
        external_id=parsed.message_id,
        metadata=metadata,
        cost=0,
    )
    _store_attachments(parsed, interaction)
    return InboundResult(BOUNCE, interaction, dropped=parsed.dropped, undeliverable=marked)


def _store_attachments(parsed: ParsedEmail, interaction: Interaction) -> None:
    rows = []
    for item in parsed.attachments:
        digest = hashlib.sha256(item.content).hexdigest()
        row = Attachment(
            customer_id=interaction.customer_id,
            interaction=interaction,
            filename=item.filename or "attachment",
            content_type=item.content_type,
            size=len(item.content),
            sha256=digest,
        )
        path = attachment_path(row, row.filename)
        if not default_storage.exists(path):
            path = default_storage.save(path, ContentFile(item.content))
        row.file.name = path
        rows.append(row)
    if rows:
        Attachment.objects.bulk_create(rows)


def email_body_full(interaction: Interaction) -> str:
    """The whole sanitised body of an inbound email (with its quoted history)."""
    return html_sanitise(interaction.metadata.get("full_body", "")) or interaction.body
