"""Tracking: signed open-pixel, click and unsubscribe links, and what the events change.

Every link carries a signature (``django.core.signing``, a salt per use): a forged or altered token is
refused. A click leads only to a link of that message's own rendered template (no open redirect).
Unsubscribing (the page, its POST, or the mail client's RFC 8058 one-click POST) writes a withdrawal
to the consent ledger with the message as proof. Bounces and complaints arrive on an HMAC-signed JSON
webhook (the call events' scheme). Each event is one ``TrackingEvent`` and one timeline interaction
(opens and clicks: the first one per message only, to keep the timeline readable).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import CampaignChannel, Message, MessageStatus, Suppression, TrackingEvent, TrackingKind
from channels.choices import Direction, InteractionChannel, InteractionKind
from channels.services.interactions import interaction_build, interactions_record_many
from crm.errors import ApplicationError
from customers.choices import ConsentSource, ConsentStatus
from customers.models import ContactPoint, Customer
from customers.services.records import consent_record, contact_point_mark_undeliverable

SALT_OPEN, SALT_CLICK, SALT_UNSUBSCRIBE = "relais.campaigns.open", "relais.campaigns.click", "relais.campaigns.unsub"
INTERACTION_CHANNEL = {
    CampaignChannel.EMAIL: InteractionChannel.EMAIL,
    CampaignChannel.SMS: InteractionChannel.SMS,
    CampaignChannel.POSTAL_MAIL: InteractionChannel.POSTAL_MAIL,
    CampaignChannel.PHONE: InteractionChannel.PHONE,
}
INTERACTION_KIND = {
    CampaignChannel.EMAIL: InteractionKind.EMAIL,
    CampaignChannel.SMS: InteractionKind.SMS,
    CampaignChannel.POSTAL_MAIL: InteractionKind.LETTER,
    CampaignChannel.PHONE: InteractionKind.CALL,
}


# -- links ---------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _token(message, salt: str) -> str:
    return signing.Signer(salt=salt).sign(str(message.pk))


def message_from_token(token: str, *, salt: str) -> Message:
    """The message a signed token names; a bad signature or an unknown message is an error (404)."""
    try:
        pk = int(signing.Signer(salt=salt).unsign(token))
    except (signing.BadSignature, ValueError):
        raise ApplicationError("bad_signature", _("This link is not valid."), status_code=404) from None
    message = Message.objects.select_related("customer", "step__template", "campaign").filter(pk=pk).first()
    if message is None:
        raise ApplicationError("not_found", _("This link is not valid."), status_code=404)
    return message


def open_pixel_url(message) -> str:
    return _absolute(reverse("campaigns:track_open", args=[_token(message, SALT_OPEN)]))


def click_url(message, target: str) -> str:
    token = signing.Signer(salt=SALT_CLICK).sign_object({"m": message.pk, "u": target}, compress=True)
    return _absolute(reverse("campaigns:track_click", args=[token]))


def unsubscribe_url(message) -> str:
    return _absolute(reverse("campaigns:unsubscribe", args=[_token(message, SALT_UNSUBSCRIBE)]))


def preferences_url(message) -> str:
    return unsubscribe_url(message)


def unsubscribe_mailto(message) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"mailto:unsubscribe@{domain}?subject={quote('unsubscribe ' + _token(message, SALT_UNSUBSCRIBE))}"


# -- events --------------------------------------------------------------------------------------


def _event(message: Message, kind: str, *, url: str = "", detail: dict | None = None, timeline: bool = True):
    TrackingEvent.objects.create(customer_id=message.customer_id, message=message, campaign_id=message.campaign_id,
                                 kind=kind, url=url[:2000], detail=detail or {})  # fmt: skip
    if timeline:
        labels = {
            TrackingKind.OPEN: _("Opened “%(campaign)s”"),
            TrackingKind.CLICK: _("Clicked a link of “%(campaign)s”"),
            TrackingKind.UNSUBSCRIBE: _("Unsubscribed from “%(campaign)s”"),
            TrackingKind.BOUNCE: _("“%(campaign)s” bounced"),
            TrackingKind.COMPLAINT: _("Complaint about “%(campaign)s”"),
            TrackingKind.DELIVERED: _("“%(campaign)s” delivered"),
        }
        interactions_record_many([
            interaction_build(
                channel=INTERACTION_CHANNEL[message.channel], direction=Direction.INBOUND,
                kind=INTERACTION_KIND[message.channel], customer=message.customer,
                subject=labels[kind] % {"campaign": message.campaign.name}, summary=url, cost=0,
                external_id=message.message_id, metadata={"campaign_id": message.campaign_id,
                                                          "message_id": message.pk, "event": kind},
            )
        ])  # fmt: skip


@transaction.atomic
def message_opened(*, token: str) -> Message | None:
    """Record an open (the pixel). Only the first open writes to the timeline; a bad token is ignored."""
    try:
        message = message_from_token(token, salt=SALT_OPEN)
    except ApplicationError:
        return None
    first = Message.objects.filter(pk=message.pk, opened_at__isnull=True).update(
        opened_at=timezone.now(), status=_progress(message.status, MessageStatus.OPENED)
    )
    _event(message, TrackingKind.OPEN, timeline=bool(first))
    return message


def click_target(*, token: str) -> tuple[Message, str]:
    """The message and link a click token names: the signature must hold and the link must be one of
    that message's own template (rendered for its customer); anything else is refused (404)."""
    from campaigns.services.templates import message_context, render_parts, template_for_language, template_links

    try:
        payload = signing.Signer(salt=SALT_CLICK).unsign_object(token)
        pk, target = int(payload["m"]), str(payload["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ApplicationError("bad_signature", _("This link is not valid."), status_code=404) from None
    message = Message.objects.select_related("customer", "step__template", "campaign").filter(pk=pk).first()
    if message is None:
        raise ApplicationError("not_found", _("This link is not valid."), status_code=404)
    template = template_for_language(message.step.template, message.language)
    html = render_parts(template, context=message_context(customer=message.customer, message=message)).get("html")
    if target not in template_links(html or ""):
        raise ApplicationError("unknown_link", _("This link is not valid."), status_code=404)
    return message, target


@transaction.atomic
def message_clicked(*, token: str) -> str:
    """Record a click and return where to redirect (the validated target)."""
    message, target = click_target(token=token)
    first = Message.objects.filter(pk=message.pk, clicked_at__isnull=True).update(
        clicked_at=timezone.now(), opened_at=timezone.now() if message.opened_at is None else F("opened_at"),
        status=_progress(message.status, MessageStatus.CLICKED),
    )  # fmt: skip
    _event(message, TrackingKind.CLICK, url=target, timeline=bool(first))
    return target


PROGRESS = [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.OPENED, MessageStatus.CLICKED]


def _progress(current: str, new: str) -> str:
    """Statuses only move forward along sent -> delivered -> opened -> clicked; others are final."""
    if current in PROGRESS and PROGRESS.index(new) > PROGRESS.index(current):
        return new
    return current


@transaction.atomic
def message_unsubscribe(*, token: str, ip_address: str | None = None, user_agent: str = "",
                        one_click: bool = False) -> Message:  # fmt: skip
    """Withdraw the consent for the message's channel x purpose in the ledger, the message as proof.

    Idempotent: a second POST records nothing new. ``one_click`` says it came from the mail client
    (RFC 8058 ``List-Unsubscribe=One-Click``).
    """
    message = message_from_token(token, salt=SALT_UNSUBSCRIBE)
    changed = Message.objects.filter(pk=message.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now(), status=MessageStatus.UNSUBSCRIBED
    )
    if not changed:
        return message
    proof = (f"Unsubscribe link of campaign message {message.pk} (Message-ID {message.message_id}, campaign "
             f"“{message.campaign.name}”){' by RFC 8058 one-click POST' if one_click else ''}.")  # fmt: skip
    customer = message.customer
    while customer.merged_into_id:  # merged since the message went: the survivor holds the ledger
        customer = Customer.objects.get(pk=customer.merged_into_id)
    consent_record(customer=customer, channel=message.channel, purpose=message.purpose,
                   status=ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE_LINK, proof_text=proof,
                   ip_address=ip_address, user_agent=user_agent)  # fmt: skip
    _event(message, TrackingKind.UNSUBSCRIBE, detail={"one_click": one_click})
    return message


# -- bounce and complaint webhook ---------------------------------------------------------------------


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<raw body>"``, as for the call events."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def webhook_verify(*, timestamp: str | None, signature: str | None, body: bytes) -> None:
    """Refuse an unsigned, badly signed or stale (more than 5 minutes) delivery event (401; 503 unset)."""
    secret = getattr(settings, "CAMPAIGNS_WEBHOOK_SECRET", "")
    if not secret:
        raise ApplicationError("not_configured", _("Delivery events are refused: CAMPAIGNS_WEBHOOK_SECRET is not "
                                                   "set."), status_code=503)  # fmt: skip
    if not timestamp or not signature:
        raise ApplicationError("signature_missing", _("Sign delivery events with X-Relais-Timestamp and "
                                                      "X-Relais-Signature."), status_code=401)  # fmt: skip
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, signature.strip().lower().removeprefix("sha256=")):
        raise ApplicationError("signature_invalid", _("The delivery event's signature does not match."),
                               status_code=401)  # fmt: skip
    try:
        skew = abs(time.time() - int(timestamp))
    except ValueError:
        raise ApplicationError("timestamp_invalid", _("X-Relais-Timestamp must be a Unix time."),
                               status_code=401) from None  # fmt: skip
    if skew > 300:
        raise ApplicationError("timestamp_out_of_window", _("The delivery event is too old (replay refused)."),
                               status_code=401)  # fmt: skip


WEBHOOK_EVENTS = ("delivered", "bounce", "complaint")


@transaction.atomic
def delivery_event_record(*, message_id: str, event: str, bounce_type: str = "", detail: dict | None = None) -> Message:
    """Apply a delivery event to the message with that Message-ID (or provider id).

    ``delivered``: marks it delivered. ``bounce`` with ``bounce_type="hard"``: marks the message bounced
    and the contact point undeliverable (soft bounces are recorded only). ``complaint``: marks it
    complained and puts the address on the suppression list.
    """
    if event not in WEBHOOK_EVENTS:
        raise ApplicationError("invalid_choice", _("Unknown event: %(event)s") % {"event": event}, field="event")
    wanted = message_id.strip()
    bare = wanted.strip("<>")
    messages = Message.objects.select_related("customer", "campaign")
    message = (
        messages.filter(message_id__in=[wanted, f"<{bare}>"]).first()
        or messages.filter(provider_id=bare).exclude(provider_id="").first()
    )
    if message is None:
        raise ApplicationError("not_found", _("No campaign message has this id."), field="message_id", status_code=404)
    now = timezone.now()
    if event == "delivered":
        Message.objects.filter(pk=message.pk, delivered_at__isnull=True).update(
            delivered_at=now, status=_progress(message.status, MessageStatus.DELIVERED)
        )
        _event(message, TrackingKind.DELIVERED, detail=detail, timeline=False)
    elif event == "bounce":
        hard = bounce_type == "hard"
        if hard:
            Message.objects.filter(pk=message.pk).update(bounced_at=now, status=MessageStatus.BOUNCED)
            kinds = ["email"] if message.channel == CampaignChannel.EMAIL else ["mobile", "phone"]
            for point in ContactPoint.objects.filter(customer_id=message.customer_id, kind__in=kinds,
                                                     value=message.to_address):  # fmt: skip
                contact_point_mark_undeliverable(contact_point=point, reason=_("Hard bounce of a campaign message"))
        _event(message, TrackingKind.BOUNCE, detail={**(detail or {}), "bounce_type": bounce_type or "soft"})
    else:
        Message.objects.filter(pk=message.pk).update(complained_at=now, status=MessageStatus.COMPLAINED)
        if message.to_address:
            Suppression.objects.get_or_create(channel=message.channel, value=message.to_address,
                                              defaults={"reason": Suppression.Reason.COMPLAINT,
                                                        "message_id": message.pk})  # fmt: skip
        _event(message, TrackingKind.COMPLAINT, detail=detail)
    message.refresh_from_db()
    return message
