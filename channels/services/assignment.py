"""Queue assignment: round-robin among the queue's available agents, or left for a manual pull."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.choices import OPEN_CASE_STATUSES, AssignmentRule, CaseStatus
from channels.models import Case, Queue, QueueMember
from crm.errors import ApplicationError


@transaction.atomic
def case_assign_by_rule(case: Case) -> Case:
    """Assign to the available member of the case's queue who was assigned longest ago (round-robin).

    The member rows are locked so two cases arriving at once go to two different agents.
    """
    queue = case.queue
    if queue is None or queue.assignment_rule != AssignmentRule.ROUND_ROBIN:
        return case
    member = (
        QueueMember.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(queue=queue, is_available=True, user__is_active=True)
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
        .first()
    )
    if member is None:
        return case
    member.last_assigned_at = timezone.now()
    member.save(update_fields=["last_assigned_at"])
    case.assignee_id = member.user_id
    if case.status == CaseStatus.NEW:
        case.status = CaseStatus.OPEN
    case.save(update_fields=["assignee", "status", "updated_at"])
    return case


@transaction.atomic
def case_take_next(*, queue: Queue, user) -> Case | None:
    """Manual pull: give ``user`` the oldest unassigned open case of ``queue`` (None when it is empty).

    Only members of the queue may pull from it. Rows another agent is taking at the same moment are
    skipped (``SKIP LOCKED``), so two clicks never get the same case.
    """
    if not QueueMember.objects.filter(queue=queue, user=user).exists():
        raise ApplicationError("not_a_member", _("You are not a member of the queue %(queue)s.") % {"queue": queue})
    case = (
        Case.objects.select_for_update(skip_locked=True)
        .filter(queue=queue, assignee__isnull=True, status__in=OPEN_CASE_STATUSES)
        .order_by("created_at", "id")
        .first()
    )
    if case is None:
        return None
    case.assignee = user
    if case.status == CaseStatus.NEW:
        case.status = CaseStatus.OPEN
    case.save(update_fields=["assignee", "status", "updated_at"])
    QueueMember.objects.filter(queue=queue, user=user).update(last_assigned_at=timezone.now())
    return case


@transaction.atomic
def queue_member_availability_set(*, user, is_available: bool, queue: Queue | None = None) -> int:
    """An agent marks themself available or away in one queue (or all their queues); returns rows changed.

    An unavailable member gets no round-robin assignment; manual pull still works.
    """
    memberships = QueueMember.objects.filter(user=user)
    if queue is not None:
        memberships = memberships.filter(queue=queue)
    return memberships.update(is_available=is_available)
