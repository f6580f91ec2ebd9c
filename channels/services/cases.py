"""Cases: opened from any channel or by an agent, SLA due dates, status changes, reopen on reply.

The adapters (email in, calls, chat, portal) use ``case_open`` and ``case_customer_replied``; the
desk's screens and the API change a case through ``case_update`` (one path for both). Every change
opens the history context itself with the ``acting_user`` it is given, so the case's history names the
person whether the change came from a session, an API token or a task.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from channels.choices import (
    OPEN_CASE_STATUSES,
    CaseCategory,
    CasePriority,
    CaseStatus,
    Direction,
    InteractionChannel,
    InteractionKind,
)
from channels.models import Case, Interaction, Queue, SlaPolicy
from channels.services.interactions import interaction_record
from channels.services.sla import business_add
from crm.errors import ApplicationError
from customers.choices import RecordSource
from customers.services.records import history_context


def sla_policy_for(*, category: str, priority: str) -> SlaPolicy | None:
    """The policy for this category and priority, else the category's catch-all (empty priority)."""
    return (
        SlaPolicy.objects.filter(category=category)
        .filter(Q(priority=priority) | Q(priority=""))
        .order_by("-priority")
        .first()
    )


def case_sla_apply(case: Case, *, start=None) -> None:
    """Set the policy and due dates from ``start`` (default: the case's creation). Not saved here."""
    policy = sla_policy_for(category=case.category, priority=case.priority)
    case.sla_policy = policy
    if policy is None:
        case.first_response_due_at = case.resolution_due_at = None
        return
    start = start or case.created_at
    hours = {"day_start": policy.business_day_start, "day_end": policy.business_day_end}
    case.first_response_due_at = business_add(start, policy.first_response_minutes, **hours)
    case.resolution_due_at = business_add(start, policy.resolution_minutes, **hours)


def _history(*, acting_user, source: str):
    """The history context naming ``acting_user``; none without one (an adapter's or a task's own stands)."""
    if acting_user is None:
        return contextlib.nullcontext()
    return history_context(acting_user=acting_user, source=source)


def default_queue() -> Queue | None:
    return Queue.objects.filter(is_default=True, is_active=True).first()


@transaction.atomic
def case_open(
    *,
    subject: str,
    channel: str,
    customer=None,
    category: str = "request",
    priority: str = CasePriority.NORMAL,
    description: str = "",
    queue: Queue | None = None,
    assignee=None,
    acting_user=None,
    source: str = RecordSource.AGENT,
) -> Case:
    """Open a case, compute its SLA due dates, put it in a queue and assign it by the queue's rule.

    With an ``acting_user``, the history of the new case names them (and ``source``).
    """
    case = Case(
        customer=customer,
        subject=subject[:255],
        description=description,
        category=category,
        priority=priority,
        channel=channel,
        queue=queue or default_queue(),
        assignee=assignee,
        created_by=acting_user,
        status=CaseStatus.OPEN if assignee else CaseStatus.NEW,
        created_at=timezone.now(),
    )
    case_sla_apply(case)
    with _history(acting_user=acting_user, source=source):
        case.save()
        if case.assignee_id is None and case.queue_id is not None:
            from channels.services.assignment import case_assign_by_rule

            case_assign_by_rule(case)
    return case


def open_case_for_conversation(conversation) -> Case | None:
    """The open case of a thread, if any (the newest)."""
    if conversation is None or conversation.case_id is None:
        return None
    case = conversation.case
    return case if case.status in OPEN_CASE_STATUSES else None


@transaction.atomic
def case_customer_replied(case: Case) -> Case:
    """The customer wrote again: a resolved/closed case reopens, a waiting one goes back to open."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case.status = CaseStatus.OPEN
        case.reopened_count += 1
        case.resolved_at = case.closed_at = None
        case.save(update_fields=["status", "reopened_count", "resolved_at", "closed_at", "updated_at"])
    elif case.status == CaseStatus.WAITING:
        case.status = CaseStatus.OPEN
        case.save(update_fields=["status", "updated_at"])
    return case


@transaction.atomic
def case_agent_responded(case: Case, *, at=None) -> Case:
    """An agent answered the customer (email, SMS, call): the first response SLA is met or breached."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.first_responded_at is None:
        case.first_responded_at = at or timezone.now()
        if case.first_response_due_at and case.first_responded_at > case.first_response_due_at:
            case.first_response_breached = True
        if case.status == CaseStatus.NEW:
            case.status = CaseStatus.OPEN
        case.save(update_fields=["first_responded_at", "first_response_breached", "status", "updated_at"])
    return case


# Which status a case may move to from each status (same-status changes are refused as no-ops).
TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.NEW: {CaseStatus.OPEN, CaseStatus.WAITING, CaseStatus.RESOLVED, CaseStatus.CLOSED},
    CaseStatus.OPEN: {CaseStatus.WAITING, CaseStatus.RESOLVED, CaseStatus.CLOSED},
    CaseStatus.WAITING: {CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED},
    CaseStatus.RESOLVED: {CaseStatus.OPEN, CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.OPEN},
}


def case_transitions(case: Case) -> list[tuple[str, str]]:
    """The statuses ``case`` may move to, as (value, label) in the order of the status list."""
    allowed = TRANSITIONS.get(case.status, set())
    return [(value, label) for value, label in CaseStatus.choices if value in allowed]


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


@transaction.atomic
def case_status_change(*, case: Case, status: str, acting_user=None, at=None,
                       source: str = RecordSource.AGENT) -> Case:  # fmt: skip
    """Move the case to ``status`` if the transition is allowed.

    Resolving sets ``resolved_at`` (and the resolution breach if late) and schedules the satisfaction
    survey; closing sets ``closed_at`` (closing an unresolved case, a duplicate or spam, sends no
    survey); reopening (to open from resolved/closed) clears both and counts
    the reopen, keeping any survey answer. Waiting on the customer pauses no SLA clock: due dates are
    fixed at creation (see docs/channels/desk.md). Raises ``ApplicationError`` on a refused change.
    """
    if status not in CaseStatus.values:
        raise ApplicationError("invalid_choice", _("Unknown status: %(status)s") % {"status": status},
                               field="status")  # fmt: skip
    case = _locked(case)
    if status == case.status:
        raise ApplicationError(
            "unchanged", _("The case is already %(status)s.") % {"status": case.get_status_display()}, field="status"
        )
    if status not in TRANSITIONS[case.status]:
        raise ApplicationError(
            "invalid_transition",
            _("A %(current)s case cannot become %(new)s.")
            % {"current": case.get_status_display(), "new": CaseStatus(status).label},
            field="status",
        )
    now = at or timezone.now()
    fields = ["status", "updated_at"]
    if status == CaseStatus.RESOLVED:
        case.resolved_at = now
        if case.resolution_due_at and now > case.resolution_due_at:
            case.resolution_breached = True
        fields += ["resolved_at", "resolution_breached"]
    elif status == CaseStatus.CLOSED:
        case.closed_at = now
        fields.append("closed_at")
    elif case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case.reopened_count += 1
        case.resolved_at = case.closed_at = None
        fields += ["reopened_count", "resolved_at", "closed_at"]
    case.status = status
    with _history(acting_user=acting_user, source=source):
        case.save(update_fields=fields)
    if status == CaseStatus.RESOLVED:
        from channels.services.surveys import survey_schedule

        survey_schedule(case=case)
    return case


def _check_assignee(user) -> None:
    if user is not None and not (user.is_active and user.has_perm("channels.change_case")):
        raise ApplicationError(
            "invalid_assignee", _("%(user)s cannot work on cases.") % {"user": user}, field="assignee"
        )


@transaction.atomic
def case_assign(*, case: Case, assignee, acting_user=None, source: str = RecordSource.AGENT) -> Case:
    """Give the case to ``assignee`` (None: back to the queue). A new case becomes open when assigned."""
    _check_assignee(assignee)
    case = _locked(case)
    if case.assignee_id == (assignee.pk if assignee else None):
        return case
    case.assignee = assignee
    if assignee is not None and case.status == CaseStatus.NEW:
        case.status = CaseStatus.OPEN
    with _history(acting_user=acting_user, source=source):
        case.save(update_fields=["assignee", "status", "updated_at"])
    return case


@transaction.atomic
def case_move_queue(*, case: Case, queue: Queue | None, acting_user=None, source: str = RecordSource.AGENT) -> Case:
    """Put the case in another queue; an unassigned case is then assigned by that queue's rule."""
    if queue is not None and not queue.is_active:
        raise ApplicationError("inactive_queue", _("The queue %(queue)s is closed.") % {"queue": queue},
                               field="queue")  # fmt: skip
    case = _locked(case)
    case.queue = queue
    with _history(acting_user=acting_user, source=source):
        case.save(update_fields=["queue", "updated_at"])
        if case.assignee_id is None and queue is not None and case.is_open:
            from channels.services.assignment import case_assign_by_rule

            case_assign_by_rule(case)
    return case


@transaction.atomic
def case_classify(*, case: Case, category: str | None = None, priority: str | None = None, acting_user=None,
                  source: str = RecordSource.AGENT) -> Case:  # fmt: skip
    """Change category and/or priority; the SLA due dates are recomputed from the case's creation.

    The breach flags follow the new due dates (a longer delay can lift a flag that is no longer true).
    """
    if category is not None and category not in CaseCategory.values:
        raise ApplicationError("invalid_choice", _("Unknown category."), field="category")
    if priority is not None and priority not in CasePriority.values:
        raise ApplicationError("invalid_choice", _("Unknown priority."), field="priority")
    case = _locked(case)
    case.category = category or case.category
    case.priority = priority or case.priority
    case_sla_apply(case)
    now = timezone.now()
    responded = case.first_responded_at
    due = case.first_response_due_at
    case.first_response_breached = bool(due and ((responded and responded > due) or (not responded and now > due)))
    end = case.resolved_at or now
    case.resolution_breached = bool(case.resolution_due_at and end > case.resolution_due_at)
    with _history(acting_user=acting_user, source=source):
        case.save(update_fields=["category", "priority", "sla_policy", "first_response_due_at", "resolution_due_at",
                                 "first_response_breached", "resolution_breached", "updated_at"])  # fmt: skip
    return case


# ``case_update``'s marker for "not sent" (``None`` is a real value: no assignee, no queue).
UNCHANGED = object()
CASE_UPDATE_FIELDS = ("status", "priority", "category", "assignee", "queue")


@transaction.atomic
def case_update(
    *,
    case: Case,
    acting_user,
    source: str = RecordSource.AGENT,
    status: str | None = None,
    priority: str | None = None,
    category: str | None = None,
    assignee=UNCHANGED,
    queue=UNCHANGED,
) -> Case:
    """Change what was sent of a case's category, priority, queue, assignee and status: all or nothing.

    The one write path of the desk's case page and of ``PATCH /api/v1/cases/{id}/``. A value equal to
    the case's current one changes nothing (the same PATCH sent twice is harmless). Applied in this
    order: category and priority (due dates recomputed), queue (an unassigned case is assigned by the
    new queue's rule), assignee, then status (its transition rules; resolving schedules the survey).
    One refusal (``ApplicationError``) rolls every part back. The history rows name ``acting_user``
    and ``source`` (``agent`` or ``api``). Returns the case as saved.
    """
    sent = {"status": status, "priority": priority, "category": category}
    if all(value is None for value in sent.values()) and assignee is UNCHANGED and queue is UNCHANGED:
        raise ApplicationError("empty", _("Send at least one of status, priority, category, assignee, queue."))
    case = _locked(case)
    with _history(acting_user=acting_user, source=source):
        if (category is not None and category != case.category) or (priority is not None and priority != case.priority):
            case = case_classify(case=case, category=category, priority=priority, acting_user=acting_user,
                                 source=source)  # fmt: skip
        if queue is not UNCHANGED and getattr(queue, "pk", None) != case.queue_id:
            case = case_move_queue(case=case, queue=queue, acting_user=acting_user, source=source)
        if assignee is not UNCHANGED:
            case = case_assign(case=case, assignee=assignee, acting_user=acting_user, source=source)
        if status is not None and status != case.status:
            case = case_status_change(case=case, status=status, acting_user=acting_user, source=source)
    case.refresh_from_db()
    return case


def case_note_add(*, case: Case, text: str, acting_user) -> Interaction:
    """An internal note on the case's thread (an interaction of kind note that cost nothing)."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError("required", _("Write the note first."), field="text")
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())
    return interaction_record(
        channel=case.channel,
        direction=Direction.OUTBOUND,
        kind=InteractionKind.NOTE,
        customer=case.customer,
        agent=acting_user,
        subject=_("Note on %(number)s") % {"number": case.number},
        body_html=paragraphs,
        case=case,
        cost=Decimal("0"),
        metadata={"internal": True},
    )


@transaction.atomic
def case_create_by_agent(
    *,
    acting_user,
    subject: str,
    channel: str,
    customer=None,
    category: str = CaseCategory.REQUEST,
    priority: str = CasePriority.NORMAL,
    description: str = "",
    queue: Queue | None = None,
    assignee=None,
    source: str = RecordSource.AGENT,
) -> Case:
    """An agent opens a case (from the 360 page, the case list or the API).

    Validates what ``case_open`` trusts (non-empty subject, known choices, an assignee who may work
    cases, a live customer) then opens it; the description stays on the case, shown above its thread.
    """
    if not (subject or "").strip():
        raise ApplicationError("required", _("Give the case a subject."), field="subject")
    for field, value, choices in (("category", category, CaseCategory), ("priority", priority, CasePriority),
                                  ("channel", channel, InteractionChannel)):  # fmt: skip
        if value not in choices.values:
            raise ApplicationError("invalid_choice", _("Unknown value: %(value)s") % {"value": value}, field=field)
    if customer is not None and not customer.is_live:
        raise ApplicationError("not_live", _("This customer was merged or anonymised."), field="customer")
    _check_assignee(assignee)
    case = case_open(subject=subject.strip(), channel=channel, customer=customer, category=category, priority=priority,
                     description=description, queue=queue, assignee=assignee, acting_user=acting_user,
                     source=source)  # fmt: skip
    case.refresh_from_db()
    return case


@transaction.atomic
def follow_up_done(*, follow_up, acting_user) -> object:
    """Mark a follow-up task done (idempotent on a done task; a cancelled one cannot be done)."""
    from channels.choices import FollowUpStatus
    from channels.models import FollowUp

    task = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if task.status == FollowUpStatus.DONE:
        return task
    if task.status == FollowUpStatus.CANCELLED:
        raise ApplicationError("cancelled", _("This task was cancelled."), field="status")
    task.status = FollowUpStatus.DONE
    task.done_at = timezone.now()
    task.save(update_fields=["status", "done_at"])
    return task
