"""SMS: an agent's text to a customer, inbound texts (STOP keywords included) and delivery reports.

Every SMS, in or out, is one ``Interaction`` (channel and kind ``sms``) threaded into the customer's
SMS ``Conversation``; the provider's message id is the interaction's ``external_id`` (idempotency of
the webhooks, delivery reports). The provider is called outside any transaction: a slow provider
never holds a database lock, and an SMS the provider refused leaves nothing written.
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from channels.choices import (
    CaseStatus,
    ConversationKind,
    ConversationStatus,
    Direction,
    InteractionChannel,
    InteractionKind,
)
from channels.models import Case, Conversation, Interaction, ResponseTemplate
from channels.services.cases import case_agent_responded, case_customer_replied, case_open
from channels.services.interactions import interaction_record
from channels.services.templates import template_context, template_text_render
from channels.sms import SmsProviderError, sms_provider
from channels.sms.encoding import sms_segments
from crm.errors import ApplicationError
from customers.choices import Channel, ConsentSource, ConsentStatus, ContactKind, Purpose
from customers.models import ContactPoint, Customer
from customers.normalise import fold, phone_normalise
from customers.selectors import consent_effective
from customers.services.identity import identity_resolve
from customers.services.records import consent_record, contact_point_mark_undeliverable

MAX_SEGMENTS = 6  # 918 GSM-7 / 402 UCS-2 characters: beyond that, write a letter or an email
STOP_WORDS = frozenset({"stop", "stop sms", "stopsms", "arret", "arret sms", "unsubscribe", "desabonner"})
DELIVERY_STATUSES = ("queued", "sent", "delivered", "failed", "undeliverable", "expired")
PERMANENT_FAILURES = frozenset({"undeliverable"})


# -- templates ---------------------------------------------------------------------------------


def sms_template_render(*, template: ResponseTemplate, customer: Customer, agent=None, case=None) -> str:
    if template.channel != "sms" or not template.is_active:
        raise ApplicationError("invalid_template", _("Choose an active SMS template."), field="template")
    return template_text_render(template.body, context=template_context(customer=customer, agent=agent, case=case))


# -- reads -------------------------------------------------------------------------------------


def sms_mobiles(*, customer: Customer) -> list[ContactPoint]:
    """The customer's mobile numbers, primary first, undeliverable ones included (the form shows why)."""
    return list(customer.contact_points.filter(kind=ContactKind.MOBILE).order_by("is_undeliverable", "-is_primary",
                                                                                 "id"))  # fmt: skip


def sms_consent_state(*, customer: Customer) -> dict:
    """The effective SMS consents: ``{"marketing": Consent | None, "service": Consent | None}``."""
    effective = consent_effective(customer=customer)
    return {purpose: effective.get((Channel.SMS, purpose)) for purpose in (Purpose.MARKETING, Purpose.SERVICE)}


def is_stop_keyword(text: str) -> bool:
    """True for STOP, STOP SMS, ARRET, ARRÊT, UNSUBSCRIBE... in any case, trimmed, final punctuation ignored."""
    words = re.sub(r"[\s.!,;:]+$", "", " ".join(fold(text or "").split()))
    return words in STOP_WORDS


# -- outbound ----------------------------------------------------------------------------------


def _conversation_for(*, customer: Customer | None, number: str, lock: bool = True) -> Conversation:
    """The open SMS thread of a customer (or of an unknown number), created when there is none.

    Two texts of one customer arriving at once both find no thread (a ``SELECT ... FOR UPDATE`` on an
    empty result locks nothing) and both insert one: the partial unique constraints
    ``conversation_one_open_sms`` / ``conversation_one_open_sms_number`` make the second insert wait
    for the first transaction and fail once it commits; the loser then reads (and locks) the winner's
    thread. The insert runs in a savepoint so the caller's transaction survives the failure.
    """
    queryset = Conversation.objects.filter(kind=ConversationKind.SMS).exclude(status=ConversationStatus.CLOSED)
    if customer is not None:
        queryset = queryset.filter(customer=customer)
    else:
        queryset = queryset.filter(customer__isnull=True, visitor_id=f"tel:{number}")
    if lock:
        queryset = queryset.select_for_update()
    queryset = queryset.order_by("-last_message_at")
    conversation = queryset.first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                customer=customer, kind=ConversationKind.SMS, status=ConversationStatus.OPEN,
                subject=_("SMS with %(who)s") % {"who": customer.display_name if customer else number},
                visitor_id="" if customer else f"tel:{number}",
            )  # fmt: skip
    except IntegrityError:
        conversation = queryset.first()  # committed by the other transaction: READ COMMITTED sees it now
        if conversation is None:  # it was closed in between: a new thread is right
            return _conversation_for(customer=customer, number=number, lock=lock)
        return conversation


def sms_threads_merge(survivor: Customer, duplicate: Customer) -> None:
    """Merge rule for conversations: when both customers have an open SMS thread, the duplicate's is
    closed (its messages stay on the survivor's timeline), so the survivor keeps one open thread."""
    open_sms = Conversation.objects.filter(kind=ConversationKind.SMS).exclude(status=ConversationStatus.CLOSED)
    if open_sms.filter(customer=survivor).exists():
        open_sms.filter(customer=duplicate).update(status=ConversationStatus.CLOSED, closed_at=timezone.now())
    Conversation.objects.filter(customer=duplicate).update(customer=survivor)


def sms_send(
    *,
    customer: Customer,
    body: str,
    acting_user,
    case: Case | None = None,
    template: ResponseTemplate | None = None,
    contact_point: ContactPoint | None = None,
) -> Interaction:
    """Send ``body`` to the customer's mobile through the configured provider and record it.

    Preconditions: a live customer, a mobile number of theirs that is not undeliverable, a text of 1 to
    ``MAX_SEGMENTS`` parts, a case (if any) of this customer. A service SMS needs no marketing consent.
    The provider is called first, outside the transaction; if it refuses, nothing is written and an
    ``ApplicationError`` (code ``sms_provider_error``, HTTP 502) carries its reason. Then, in one
    transaction: the outbound interaction (external id = the provider's id, the channel's cost) in the
    customer's SMS thread, and the case's first response when the SMS answers a case.
    """
    if not customer.is_live:
        raise ApplicationError("customer_not_live", _("This customer was merged or anonymised."), field="customer")
    text = (body or "").strip()
    if not text:
        raise ApplicationError("required", _("Write the message."), field="body")
    count = sms_segments(text)
    if count.segments > MAX_SEGMENTS:
        raise ApplicationError(
            "too_long",
            _("The message is %(segments)s SMS long; the limit is %(limit)s. Shorten it or send an email.")
            % {"segments": count.segments, "limit": MAX_SEGMENTS},
            field="body",
        )
    if case is not None and case.customer_id != customer.pk:
        raise ApplicationError("invalid_case", _("This case belongs to another customer."), field="case")
    if contact_point is None:
        mobiles = [cp for cp in sms_mobiles(customer=customer) if not cp.is_undeliverable]
        if not mobiles:
            raise ApplicationError(
                "no_mobile",
                _("%(name)s has no mobile number that can receive SMS. Add one to the record first.")
                % {"name": customer.display_name},
                field="to",
            )
        contact_point = mobiles[0]
    elif contact_point.customer_id != customer.pk or contact_point.kind != ContactKind.MOBILE:
        raise ApplicationError("invalid_number", _("Choose one of the customer's mobile numbers."), field="to")
    elif contact_point.is_undeliverable:
        raise ApplicationError(
            "undeliverable",
            _("%(number)s is marked undeliverable (%(reason)s). Check the number with the customer.")
            % {"number": contact_point.display_value, "reason": contact_point.undeliverable_reason or "—"},
            field="to",
        )
    sender = settings.SMS_SENDER
    provider = sms_provider()
    try:
        result = provider.send(to_e164=contact_point.value, body=text, sender=sender)
    except SmsProviderError as error:
        raise ApplicationError("sms_provider_error", error.message, status_code=502) from None
    return _sms_sent_record(
        customer=customer, text=text, acting_user=acting_user, case=case, template=template,
        contact_point=contact_point, sender=sender, provider_key=provider.key, message_id=result.message_id,
        status=result.status, count=count,
    )  # fmt: skip


@transaction.atomic
def _sms_sent_record(*, customer, text, acting_user, case, template, contact_point, sender, provider_key,
                     message_id, status, count) -> Interaction:  # fmt: skip
    conversation = _conversation_for(customer=customer, number=contact_point.value)
    now = timezone.now()
    interaction = interaction_record(
        channel=InteractionChannel.SMS, direction=Direction.OUTBOUND, kind=InteractionKind.SMS,
        customer=customer, agent=acting_user, occurred_at=now,
        subject=_("SMS to %(number)s") % {"number": contact_point.display_value},
        body_html=linebreaks(escape(text)), summary=text[:500], case=case, conversation=conversation,
        external_id=message_id,
        metadata={
            "to": contact_point.value, "from": sender, "provider": provider_key, "status": status,
            "encoding": count.encoding, "segments": count.segments, "template_id": template.pk if template else None,
        },
    )  # fmt: skip
    changed = ["last_message_at"]
    conversation.last_message_at = now
    if case is not None and conversation.case_id != case.pk:
        conversation.case = case
        changed.append("case")
    conversation.save(update_fields=changed)
    if case is not None:
        case_agent_responded(case, at=now)
    return interaction


# -- inbound -----------------------------------------------------------------------------------


def _lock_message_id(message_id: str) -> None:
    # Two deliveries of the same webhook at once: the second waits, then finds the first's row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"sms-in:{message_id}"])


@transaction.atomic
def sms_inbound_receive(
    *, sender: str, recipient: str, text: str, message_id: str, received_at: datetime.datetime | None = None
) -> tuple[list[Interaction], bool]:
    """Record an SMS a customer sent; return ``(interactions, created)``.

    Idempotent on ``message_id``: a webhook delivered twice records once (``created`` is False the
    second time). The sender is resolved by phone number. A STOP keyword withdraws the SMS marketing
    consent (source "SMS keyword", the text, numbers and time as proof) of every live customer holding
    that number, records the message on each one's timeline and opens no case. Any other message goes
    into the customer's SMS thread and to its open case (a resolved one reopens), or opens a case.
    An unknown number gets its own thread and a case without customer, for an agent to link.
    """
    message_id = (message_id or "").strip()[:255]
    if not message_id:
        raise ApplicationError("required", _("message_id is required."), field="message_id")
    number = phone_normalise(sender).e164 if sender else ""
    if not number:
        raise ApplicationError("required", _("from is required."), field="from")
    _lock_message_id(message_id)
    existing = list(
        Interaction.objects.filter(channel=InteractionChannel.SMS, direction=Direction.INBOUND, external_id=message_id)
    )
    if existing:
        return existing, False
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + datetime.timedelta(minutes=5):
        received_at = timezone.now()  # a provider clock ahead of ours must not date consent in the future
    text = (text or "").strip()
    metadata = {"from": number, "to": recipient, "received_at": received_at.isoformat()}
    if is_stop_keyword(text):
        return _stop_receive(number=number, text=text, recipient=recipient, message_id=message_id,
                             received_at=received_at, metadata=metadata), True  # fmt: skip
    result = identity_resolve(phone=number)
    customer = result.match
    if customer is None and result.candidates:
        metadata["candidates"] = [c.customer.pk for c in result.candidates]
    conversation = _conversation_for(customer=customer, number=number)
    case = conversation.case if conversation.case_id else None
    if case is not None and case.status != CaseStatus.CLOSED:
        case = case_customer_replied(case)
    else:
        case = case_open(
            subject=_("SMS from %(who)s: %(text)s")
            % {"who": customer.display_name if customer else number, "text": text[:80]},
            channel=InteractionChannel.SMS, customer=customer, description=text,
        )  # fmt: skip
    interaction = interaction_record(
        channel=InteractionChannel.SMS, direction=Direction.INBOUND, kind=InteractionKind.SMS, customer=customer,
        occurred_at=received_at, subject=_("SMS from %(number)s") % {"number": number},
        body_html=linebreaks(escape(text)), summary=text[:500], case=case, conversation=conversation,
        external_id=message_id, metadata=metadata,
    )  # fmt: skip
    conversation.last_message_at = received_at
    conversation.case = case
    conversation.save(update_fields=["last_message_at", "case"])
    return [interaction], True


def _stop_receive(*, number, text, recipient, message_id, received_at, metadata) -> list[Interaction]:
    holders = list(
        Customer.objects.live()
        .filter(contact_points__kind__in=[ContactKind.MOBILE, ContactKind.PHONE], contact_points__value=number)
        .distinct()
        .order_by("pk")
    )
    proof = _("SMS “%(text)s” received from %(number)s on %(to)s at %(at)s (message %(id)s).") % {
        "text": text, "number": number, "to": recipient or "—", "at": received_at.isoformat(), "id": message_id,
    }  # fmt: skip
    metadata = {**metadata, "stop": True}
    recorded = []
    for customer in holders:
        consent_record(
            customer=customer, channel=Channel.SMS, purpose=Purpose.MARKETING, status=ConsentStatus.WITHDRAWN,
            source=ConsentSource.SMS_KEYWORD, proof_text=proof, occurred_at=received_at,
        )  # fmt: skip
        recorded.append(
            interaction_record(
                channel=InteractionChannel.SMS,
                direction=Direction.INBOUND,
                kind=InteractionKind.SMS,
                customer=customer,
                occurred_at=received_at,
                outcome="stop",
                subject=_("STOP by SMS: marketing SMS consent withdrawn"),
                body_html=linebreaks(escape(text)),
                summary=text[:500],
                external_id=message_id,
                metadata=metadata,
            )  # fmt: skip
        )
    if not holders:
        # Nobody holds the number: keep the request on record so an agent can find it later.
        recorded.append(
            interaction_record(
                channel=InteractionChannel.SMS,
                direction=Direction.INBOUND,
                kind=InteractionKind.SMS,
                occurred_at=received_at,
                outcome="stop",
                subject=_("STOP by SMS from an unknown number"),
                body_html=linebreaks(escape(text)),
                summary=text[:500],
                external_id=message_id,
                metadata={**metadata, "unmatched": True},
            )  # fmt: skip
        )
    return recorded


# -- delivery reports --------------------------------------------------------------------------


@transaction.atomic
def sms_status_update(
    *, message_id: str, status: str, error_code: str = "", error_message: str = "", at=None
) -> Interaction:
    """Record a delivery report on the outbound SMS ``message_id``; return its interaction.

    A permanent failure (``undeliverable``) also marks the customer's number undeliverable, so the next
    SMS is refused until someone checks it. Reports arriving out of order never turn ``delivered`` back
    into ``sent``. Raises ``ApplicationError`` 404 for an unknown message id.
    """
    if status not in DELIVERY_STATUSES:
        raise ApplicationError(
            "invalid_choice",
            _("Unknown status “%(status)s”; use one of: %(choices)s.")
            % {"status": status, "choices": ", ".join(DELIVERY_STATUSES)},
            field="status",
        )
    interaction = (
        Interaction.objects.select_for_update()
        .filter(channel=InteractionChannel.SMS, direction=Direction.OUTBOUND, external_id=message_id)
        .first()
    )
    if interaction is None:
        raise ApplicationError("not_found", _("No SMS was sent with this message id."), field="message_id",
                               status_code=404)  # fmt: skip
    at = at or timezone.now()
    metadata = dict(interaction.metadata)
    history = list(metadata.get("delivery", []))
    history.append({"status": status, "at": at.isoformat(), "error_code": error_code[:50],
                    "error_message": error_message[:300]})  # fmt: skip
    metadata["delivery"] = history[-20:]
    if metadata.get("status") != "delivered" or status in PERMANENT_FAILURES:
        metadata["status"] = status
    Interaction.objects.filter(pk=interaction.pk).update(metadata=metadata)
    interaction.metadata = metadata
    if status in PERMANENT_FAILURES and interaction.customer_id and metadata.get("to"):
        contact_point = ContactPoint.objects.filter(
            customer_id=interaction.customer_id, kind=ContactKind.MOBILE, value=metadata["to"]
        ).first()
        if contact_point is not None:
            reason = _("SMS undeliverable: %(error)s") % {"error": error_message or error_code or status}
            contact_point_mark_undeliverable(contact_point=contact_point, reason=reason)
    return interaction
