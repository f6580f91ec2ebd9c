"""Cases: opened from any channel or by an agent, SLA due dates, status changes, reopen on reply.

The adapters (email in, calls, chat, portal) use ``case_open`` and ``case_customer_replied``; the
desk's screens use the rest.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from channels.choices import OPEN_CASE_STATUSES, CasePriority, CaseStatus
from channels.models import Case, Queue, SlaPolicy
from channels.services.sla import business_add


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
) -> Case:
    """Open a case, compute its SLA due dates, put it in a queue and assign it by the queue's rule."""
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
