"""Queue assignment: round-robin among the queue's available agents, or left for a manual pull."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels.choices import AssignmentRule, CaseStatus
from channels.models import Case, QueueMember


@transaction.atomic
def case_assign_by_rule(case: Case) -> Case:
    """Assign to the available member of the case's queue who was assigned longest ago (round-robin).

    The member rows are locked so two cases arriving at once go to two different agents.
    """
    queue = case.queue
    if queue is None or queue.assignment_rule != AssignmentRule.ROUND_ROBIN:
        return case
    member = (
        QueueMember.objects.select_for_update(skip_locked=True)
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
