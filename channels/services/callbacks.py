"""Call-back requests: asked from the web widget (or by an agent for a customer), worked from the queue.

A request waits (``requested``), an agent takes it (``assigned``), then closes it: ``done`` with an
outcome (an outbound phone interaction on the timeline), ``unreachable`` (also a call on the timeline:
the attempt counts) or ``cancelled``.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from channels import realtime
from channels.choices import CallbackStatus, Direction, InteractionChannel, InteractionKind
from channels.models import CallbackRequest, Site
from channels.services.cases import default_queue
from channels.services.interactions import interaction_record
from channels.services.sla import DEFAULT_DAY, PARIS, is_business_day
from crm.errors import ApplicationError

OPEN_STATUSES = (CallbackStatus.REQUESTED, CallbackStatus.ASSIGNED)
# How far ahead a visitor may book: a slot weeks away is a reminder, not a call-back.
MAX_DAYS_AHEAD = 30
# A slot that started a moment ago is still fine ("now until 18:00").
PAST_TOLERANCE = datetime.timedelta(minutes=5)


def business_hours_check(start: datetime.datetime, end: datetime.datetime) -> None:
    """``ApplicationError`` unless [start, end] lies on one business day between opening and closing.

    Business hours are Monday to Friday, 09:00-18:00 Europe/Paris, French public holidays excluded
    (the desk's SLA calendar).
    """
    start_local, end_local = start.astimezone(PARIS), end.astimezone(PARIS)
    opens, closes = DEFAULT_DAY
    if not is_business_day(start_local.date()):
        raise ApplicationError(
            "closed_day",
            _("We call back Monday to Friday, except public holidays: choose another day."),
            field="preferred_from",
        )
    if (
        start_local.date() != end_local.date()
        or start_local.time() < opens
        or end_local.time() > closes
        or (end_local.time() == datetime.time(0, 0) and end_local.date() != start_local.date())
    ):
        raise ApplicationError(
            "outside_hours",
            _("Choose a time between %(opens)s and %(closes)s (Paris time).")
            % {"opens": opens.strftime("%H:%M"), "closes": closes.strftime("%H:%M")},
            field="preferred_from",
        )


def slot_check(*, preferred_from: datetime.datetime, preferred_to: datetime.datetime, now=None) -> None:
    """The slot must be aware, ordered, not in the past, not too far ahead and within business hours."""
    now = now or timezone.now()
    if timezone.is_naive(preferred_from) or timezone.is_naive(preferred_to):
        raise ApplicationError("naive_datetime", _("Give the time with its time zone."), field="preferred_from")
    if preferred_to <= preferred_from:
        raise ApplicationError("slot_order", _("The end of the slot must be after its start."), field="preferred_to")
    if preferred_to <= now or preferred_from < now - PAST_TOLERANCE:
        raise ApplicationError("slot_past", _("This time slot is in the past."), field="preferred_from")
    if preferred_from > now + datetime.timedelta(days=MAX_DAYS_AHEAD):
        raise ApplicationError(
            "slot_too_far",
            _("Choose a slot within the next %(days)d days.") % {"days": MAX_DAYS_AHEAD},
            field="preferred_from",
        )
    business_hours_check(preferred_from, preferred_to)


def callback_request(
    *,
    name: str,
    phone: str,
    preferred_from: datetime.datetime,
    preferred_to: datetime.datetime,
    reason: str,
    site: Site | None = None,
    visitor_id: str = "",
    customer=None,
    conversation=None,
) -> CallbackRequest:
    """Record a "call me back" request in the default queue and announce it on the console.

    The phone is normalised to E.164 (``ApplicationError`` on ``phone`` when it is not a number); the
    slot is checked by ``slot_check``. A ``customer`` given by the caller (an agent, the signed-in portal)
    is linked and the visitor's browser stitched to them; what a visitor types in the widget links
    nobody (a typed email or number is a claim, not proof of who they are).
    """
    from customers.normalise import phone_normalise

    name = (name or "").strip()
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("required", _("Tell us what the call is about."), field="reason")
    try:
        e164 = phone_normalise(phone or "").e164
    except ApplicationError as error:
        error.field = "phone"
        raise
    slot_check(preferred_from=preferred_from, preferred_to=preferred_to)
    with transaction.atomic():
        callback = CallbackRequest.objects.create(
            customer=customer,
            phone=e164,
            name=name[:120],
            reason=reason[:255],
            preferred_from=preferred_from,
            preferred_to=preferred_to,
            queue=default_queue(),
            site=site,
            visitor_id=(visitor_id or "")[:64],
            conversation=conversation,
        )
        if site is not None and customer is not None:
            from channels.services.chat import _visitor_stitch

            _visitor_stitch(site, callback.visitor_id, customer, "callback")
        transaction.on_commit(lambda: realtime.publish("console", "callback_new", str(callback.pk)))
    return callback


def callbacks_open() -> QuerySet[CallbackRequest]:
    """Call-backs still to make, the earliest slot first (the queue page)."""
    return (
        CallbackRequest.objects.filter(status__in=OPEN_STATUSES)
        .select_related("customer", "assignee")
        .order_by("preferred_from", "id")
    )


def callbacks_pending_for_customer(*, customer, limit: int = 10) -> list[CallbackRequest]:
    """The customer's call-backs still to make (the 360 page's side panel)."""
    return list(
        CallbackRequest.objects.filter(customer=customer, status__in=OPEN_STATUSES)
        .select_related("assignee")
        .order_by("preferred_from", "id")[:limit]
    )


def callback_get_for_agent(*, user, pk: int) -> CallbackRequest:
    """Kept for the console's views: the access helper ``channels.access.callback_get_for_user`` decides."""
    from channels.access import callback_get_for_user

    return callback_get_for_user(user=user, pk=pk)


@transaction.atomic
def callback_take(*, callback: CallbackRequest, agent) -> CallbackRequest:
    """Assign an open call-back to ``agent``; ``already_taken`` (409) when another agent has it."""
    callback = CallbackRequest.objects.select_for_update().get(pk=callback.pk)
    if callback.status not in OPEN_STATUSES:
        raise ApplicationError("callback_closed", _("This call-back is already closed."), status_code=409)
    if callback.assignee_id == agent.pk:
        return callback
    if callback.assignee_id is not None:
        raise ApplicationError("already_taken", _("Another agent has already taken this call-back."), status_code=409)
    callback.assignee = agent
    callback.status = CallbackStatus.ASSIGNED
    callback.save(update_fields=["assignee", "status"])
    transaction.on_commit(lambda: realtime.publish("console", "callback_taken", str(callback.pk)))
    return callback


CLOSING_STATUSES = (CallbackStatus.DONE, CallbackStatus.UNREACHABLE, CallbackStatus.CANCELLED)


@transaction.atomic
def callback_close(
    *, callback: CallbackRequest, agent, result: str, outcome: str = "", duration_seconds: int | None = None
) -> CallbackRequest:
    """Close a call-back: ``done`` (an outcome is required), ``unreachable`` or ``cancelled``.

    ``done`` and ``unreachable`` record an outbound phone call on the timeline (the customer's, or
    unassigned until identified); ``cancelled`` records nothing. Only the assignee (or a supervisor)
    may close a taken call-back; an untaken one is taken by the closing agent.
    """
    if result not in CLOSING_STATUSES:
        raise ApplicationError("invalid_choice", _("Choose done, could not reach or cancel."), field="result")
    outcome = (outcome or "").strip()
    if result == CallbackStatus.DONE and not outcome:
        raise ApplicationError("required", _("Say how the call went."), field="outcome")
    callback = CallbackRequest.objects.select_for_update().get(pk=callback.pk)
    if callback.status not in OPEN_STATUSES:
        raise ApplicationError("callback_closed", _("This call-back is already closed."), status_code=409)
    if callback.assignee_id not in (None, agent.pk) and not agent.has_perm("channels.supervise_queues"):
        raise ApplicationError("not_your_callback", _("Another agent has this call-back."), status_code=409)
    now = timezone.now()
    if result != CallbackStatus.CANCELLED:
        reached = result == CallbackStatus.DONE
        callback.interaction = interaction_record(
            channel=InteractionChannel.PHONE,
            direction=Direction.OUTBOUND,
            kind=InteractionKind.CALL,
            customer=callback.customer,
            agent=agent,
            occurred_at=now,
            subject=_("Call-back: %(reason)s") % {"reason": callback.reason},
            summary=outcome if reached else (outcome or _("Could not reach the customer.")),
            outcome=outcome[:100] if reached else "unreachable",
            duration_seconds=duration_seconds,
            conversation=callback.conversation,
            external_id=f"callback:{callback.pk}",
            metadata={"callback": callback.pk, "phone": callback.phone, "result": result},
        )
    callback.status = result
    callback.assignee = callback.assignee or agent
    callback.outcome = outcome[:255]
    callback.done_at = now
    callback.save(update_fields=["status", "assignee", "outcome", "done_at", "interaction"])
    transaction.on_commit(lambda: realtime.publish("console", "callback_closed", str(callback.pk)))
    return callback
