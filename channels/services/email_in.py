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
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.choices import (
    CaseCategory,
    CasePriority,
    CaseStatus,
    ConversationKind,
    ConversationStatus,
    Direction,
    InteractionChannel,
    InteractionKind,
)
from channels.models import Attachment, Case, ChannelCost, ChatMessage, Conversation, Interaction, Mailbox
from channels.models.interactions import attachment_path
from channels.services.assignment import case_assign_by_rule
from channels.services.cases import case_customer_replied, case_open, case_sla_apply, default_queue
from channels.services.email_parse import EmailRejected, ParsedEmail, email_parse
from channels.services.interactions import (
    channel_cost,
    html_sanitise,
    interaction_build,
    interaction_record,
    interactions_record_many,
)
from crm.errors import ApplicationError
from customers.choices import ContactKind
from customers.models import ContactPoint, Customer
from customers.normalise import email_normalise

CREATED, DUPLICATE, AUTO_REPLY, BOUNCE = "created", "duplicate", "auto_reply", "bounce"
REOPENED_BY_REPLY = (CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.WAITING)


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
        return _store([parsed], mailbox=mailbox, source=source)[0]


def email_inbound_record_many(
    raw_messages: list[bytes], *, mailbox: Mailbox | None = None, source: str = "imap"
) -> list[InboundResult | ApplicationError]:
    """Store a batch of inbound messages (an IMAP fetch) in one transaction; one answer per message, in order.

    The same as ``email_inbound_record`` for each message, one after the other (a message answering an
    earlier one of the batch joins its thread; the same Message-ID twice stores it once), but parsed
    first and written set-based: one lookup of the senders, of the duplicates and of the threads for
    the whole batch, the new conversations, interactions and attachments inserted together; cases are
    still opened one by one by ``case_open`` (SLA, round-robin). A message that cannot be stored is
    answered by its ``ApplicationError`` and does not stop the others; a database error rolls the whole
    batch back.
    """
    answers: list[InboundResult | ApplicationError | None] = []
    parsed_list: list[ParsedEmail] = []
    for raw in raw_messages:
        try:
            parsed_list.append(email_inbound_parse(raw))
            answers.append(None)
        except ApplicationError as exc:
            answers.append(exc)
    if parsed_list:
        with transaction.atomic():
            stored = iter(_store(parsed_list, mailbox=mailbox, source=source))
        answers = [answer if answer is not None else next(stored) for answer in answers]
    return answers


def _store(messages: list[ParsedEmail], *, mailbox: Mailbox | None, source: str) -> list[InboundResult]:
    """Write parsed messages, in order, inside the caller's transaction."""
    # Two deliveries of one message at the same time (API retry + IMAP) must not both store it; the
    # locks are taken in one order so two batches never wait on each other in a circle.
    ids = sorted({parsed.message_id for parsed in messages})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(m, 5) AS h "
            "FROM unnest(%s::text[]) AS m ORDER BY 1) AS locks",
            [ids],
        )
    existing = {
        interaction.external_id: interaction
        for interaction in Interaction.objects.filter(
            channel=InteractionChannel.EMAIL, direction=Direction.INBOUND, external_id__in=ids
        ).select_related("conversation", "case")
    }
    batch = _Batch(messages, mailbox=mailbox, source=source, existing=existing)
    results = [batch.add(parsed) for parsed in messages]
    batch.flush()
    return results


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
    if parsed.forwarded:
        metadata["forwarded"] = [forwarded.as_dict() for forwarded in parsed.forwarded]
    if parsed.body_html != parsed.display_html:
        metadata["full_body"] = parsed.body_html  # already sanitised
    if parsed.is_auto_reply:
        metadata["auto_reply"] = True
    return metadata


_cost_cache: dict[str, tuple[float, Decimal]] = {}
COST_CACHE_SECONDS = 60


def _email_cost() -> Decimal:
    """The email channel's cost, read at most once a minute per process (one query less per message);
    saving or deleting a ``ChannelCost`` clears it at once in the process that did it."""
    cached = _cost_cache.get("email")
    if cached is None or time.monotonic() - cached[0] > COST_CACHE_SECONDS:
        cached = (time.monotonic(), channel_cost(InteractionChannel.EMAIL)[0])
        _cost_cache["email"] = cached
    return cached[1]


@receiver([post_save, post_delete], sender=ChannelCost, dispatch_uid="email_in_cost_cache_clear")
def _cost_cache_clear(**_kwargs) -> None:
    _cost_cache.clear()


def customers_by_email(addresses) -> dict[str, Customer]:
    """``{address: customer}`` for the sender addresses that name exactly one live customer.

    What ``identity_resolve(email=address).match`` answers when only the email is known (an exact
    contact point lookup, a merged customer followed to its survivor, anonymised customers never, no
    answer when two customers share the address, none for an address that cannot be one), for many
    addresses in one query.
    """
    normalised: dict[str, str] = {}
    for address in set(addresses):
        try:
            normalised[address] = email_normalise(address)
        except ApplicationError:
            continue  # an address identity resolution cannot read: the sender stays unidentified
    if not normalised:
        return {}
    owners: dict[str, dict[int, Customer]] = {}
    points = ContactPoint.objects.filter(kind=ContactKind.EMAIL, value__in=set(normalised.values()))
    for point in points.select_related("customer"):
        customer = point.customer
        if customer.merged_into_id is not None:
            from customers.access import customer_survivor

            customer = customer_survivor(customer)
        if customer.is_live:
            owners.setdefault(point.value, {})[customer.pk] = customer
    found = {}
    for address, value in normalised.items():
        candidates = owners.get(value, {})
        if len(candidates) == 1:
            found[address] = next(iter(candidates.values()))
    return found


def thread_identify(conversation: Conversation, customer: Customer) -> None:
    """Give a thread not identified yet its customer: conversation, case, interactions, attachments and
    chat messages move together (the composite keys are checked at commit)."""
    Conversation.objects.filter(pk=conversation.pk, customer__isnull=True).update(customer=customer)
    conversation.customer = customer
    if conversation.case_id:
        Case.objects.filter(pk=conversation.case_id, customer__isnull=True).update(customer=customer)
        if conversation.case.customer_id is None:
            conversation.case.customer = customer
    interaction_ids = list(
        Interaction.objects.filter(conversation=conversation, customer__isnull=True).values_list("id", flat=True)
    )
    Interaction.objects.filter(pk__in=interaction_ids).update(customer=customer)
    Attachment.objects.filter(interaction_id__in=interaction_ids, customer__isnull=True).update(customer=customer)
    ChatMessage.objects.filter(conversation=conversation, customer__isnull=True).update(customer=customer)


class _Batch:
    """The messages of one transaction: what is looked up once, and the rows written together."""

    def __init__(self, messages: list[ParsedEmail], *, mailbox: Mailbox | None, source: str, existing: dict):
        self.mailbox, self.source, self.existing = mailbox, source, existing
        self.queue = mailbox.queue if mailbox is not None else None
        self.cost = _email_cost()
        self.now = timezone.now()
        mail = [parsed for parsed in messages if not parsed.is_bounce and parsed.message_id not in existing]
        self.customers = customers_by_email(parsed.from_address for parsed in mail)
        self.threads = self._stored_threads(mail)  # Message-ID -> conversation, stored before the batch
        self.seen: dict[str, InboundResult] = {}
        self.new_cases: list[Case] = []
        self.sla = None  # (policy, first response due, resolution due) of the batch's new cases
        self.new_conversations: list[Conversation] = []
        self.pending: list[tuple[Interaction, ParsedEmail]] = []
        self.replied: dict[int, Conversation] = {}  # stored threads a message of the batch answered

    def _stored_threads(self, mail: list[ParsedEmail]) -> dict[str, Conversation]:
        """The conversations the batch's messages answer, locked (in id order) with their cases."""
        ids = {mid for parsed in mail for mid in parsed.thread_ids}
        if not ids:
            return {}
        rows = (
            Interaction.objects.filter(
                channel=InteractionChannel.EMAIL, external_id__in=ids, conversation__isnull=False
            )
            .values_list("external_id", "conversation_id")
            .order_by("-occurred_at")
        )
        by_id: dict[str, int] = {}
        for external_id, conversation_id in rows:
            by_id.setdefault(external_id, conversation_id)
        if not by_id:
            return {}
        conversations = {
            conversation.pk: conversation
            for conversation in Conversation.objects.select_for_update(of=("self",))
            .select_related("case", "customer")
            .filter(pk__in=set(by_id.values()))
            .order_by("pk")
        }
        # Their cases too (after the conversations, in id order, as a reply one by one locks them): a reply
        # then reopens its case without reading it again, and one to an open case writes nothing to it.
        case_ids = {conversation.case_id for conversation in conversations.values() if conversation.case_id}
        if case_ids:
            cases = Case.objects.select_for_update().filter(pk__in=case_ids).order_by("pk").in_bulk()
            for conversation in conversations.values():
                if conversation.case_id in cases:
                    conversation.case = cases[conversation.case_id]
        return {mid: conversations[pk] for mid, pk in by_id.items() if pk in conversations}

    def _case(self, parsed: ParsedEmail, *, customer: Customer | None, queue) -> Case:
        """A new thread's case as ``case_open`` opens it, inserted at the next flush with the others.

        Every case of the batch is created at the same instant with the same category and priority, so
        their SLA policy and due dates are computed once (``case_sla_apply``) and copied; the queue's
        round-robin (``case_assign_by_rule``) runs case by case after the insert, in message order.
        """
        case = Case(
            customer=customer,
            subject=(parsed.subject or _("Email from %(sender)s") % {"sender": parsed.from_address})[:255],
            description=parsed.summary,
            category=CaseCategory.REQUEST,
            priority=CasePriority.NORMAL,
            channel=InteractionChannel.EMAIL,
            queue=queue,
            status=CaseStatus.NEW,
            created_at=self.now,
        )
        if self.sla is None:
            template = Case(category=case.category, priority=case.priority, created_at=self.now)
            case_sla_apply(template)
            self.sla = (template.sla_policy, template.first_response_due_at, template.resolution_due_at)
        case.sla_policy, case.first_response_due_at, case.resolution_due_at = self.sla
        self.new_cases.append(case)
        return case

    def _default_queue(self):
        """``case_open``'s default queue, read once per batch instead of once per case."""
        if not hasattr(self, "_default"):
            self._default = default_queue()
        return self._default

    def _thread(self, parsed: ParsedEmail) -> Conversation | None:
        for mid in parsed.thread_ids:  # the direct parent wins over older references
            if mid in self.threads:
                return self.threads[mid]
        return None

    def add(self, parsed: ParsedEmail) -> InboundResult:
        first = self.existing.get(parsed.message_id)
        if first is not None:
            return InboundResult(DUPLICATE, first, first.conversation, first.case)
        earlier = self.seen.get(parsed.message_id)
        if earlier is not None:  # twice in the same batch
            return InboundResult(DUPLICATE, earlier.interaction, earlier.conversation, earlier.case)
        if parsed.is_bounce:
            result = _record_bounce(parsed, mailbox=self.mailbox, source=self.source)
        else:
            result = self._message(parsed)
        self.seen[parsed.message_id] = result
        return result

    def _message(self, parsed: ParsedEmail) -> InboundResult:
        now = self.now
        customer = self.customers.get(parsed.from_address)
        conversation = self._thread(parsed)
        queue = self.queue
        if conversation is None:
            # A new thread: its case first, so the conversation is written once, already linked.
            case = None
            if not parsed.is_auto_reply:
                case = self._case(parsed, customer=customer, queue=queue or self._default_queue())
            conversation = Conversation(
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
            self.new_conversations.append(conversation)
        else:
            if conversation.pk is None:
                self.flush()  # it answers a message of this batch: the thread's rows are written first
            if conversation.customer_id is None and customer is not None:
                thread_identify(conversation, customer)
            # In an identified thread the message belongs to the thread's customer (a colleague in copy
            # writing back does not move the case).
            customer = conversation.customer if conversation.customer_id else customer
            case = conversation.case if conversation.case_id else None
            if not parsed.is_auto_reply:
                # The thread's case, open or not: a reply to a resolved or closed case reopens it.
                if case is not None:
                    if case.status in REOPENED_BY_REPLY:  # else case_customer_replied would change nothing
                        case = case_customer_replied(case)
                else:
                    case = case_open(
                        subject=parsed.subject or _("Email from %(sender)s") % {"sender": parsed.from_address},
                        channel=InteractionChannel.EMAIL,
                        customer=customer,
                        description=parsed.summary,
                        queue=self.queue or conversation.queue or self._default_queue(),
                    )
                conversation.case = case
                if conversation.status == ConversationStatus.CLOSED:
                    conversation.status, conversation.closed_at = ConversationStatus.OPEN, None
            conversation.last_message_at = now
            self.replied[conversation.pk] = conversation  # saved at the flush, one UPDATE for the batch

        interaction = interaction_build(
            channel=InteractionChannel.EMAIL,
            direction=Direction.INBOUND,
            kind=InteractionKind.EMAIL,
            customer=customer,
            occurred_at=parsed.date or now,
            subject=parsed.subject,
            body_html=parsed.display_html,
            summary=parsed.summary,
            outcome="auto_reply" if parsed.is_auto_reply else "",
            case=case,
            conversation=conversation,
            external_id=parsed.message_id,
            metadata=_metadata(parsed, mailbox=self.mailbox, source=self.source),
            cost=self.cost,
        )
        self.pending.append((interaction, parsed))
        self.threads[parsed.message_id] = conversation  # a later message of the batch may answer it
        return InboundResult(AUTO_REPLY if parsed.is_auto_reply else CREATED, interaction, conversation, case,
                             dropped=parsed.dropped)  # fmt: skip

    def flush(self) -> None:
        """Insert the new conversations, then the interactions, then their attachments."""
        if self.new_cases:
            Case.objects.bulk_create(self.new_cases)
            for case in self.new_cases:
                if case.queue_id is not None:
                    case_assign_by_rule(case)
            self.new_cases = []
        if self.new_conversations:
            Conversation.objects.bulk_create(self.new_conversations)
            self.new_conversations = []
        if self.replied:
            Conversation.objects.bulk_update(
                list(self.replied.values()), ["case", "last_message_at", "status", "closed_at"]
            )
            self.replied = {}
        if self.pending:
            interactions_record_many([interaction for interaction, _parsed in self.pending])
            _store_attachments_many(self.pending)
            self.pending = []


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
    _store_attachments_many([(interaction, parsed)])


def _store_attachments_many(stored: list[tuple[Interaction, ParsedEmail]]) -> None:
    rows = []
    for interaction, parsed in stored:
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
