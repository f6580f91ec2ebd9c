"""Celery tasks of the service desk (thin: each calls one service; beat schedules them, crm/schedule.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="channels.sla_breaches_flag_task", acks_late=True)
def sla_breaches_flag_task() -> dict[str, int]:
    """Flag overdue open cases (two set-based UPDATEs) and toast their assignees; idempotent."""
    from channels.services.sla import sla_breaches_flag

    report = sla_breaches_flag()
    return {"first_response": len(report.first_response), "resolution": len(report.resolution)}


@shared_task(name="channels.surveys_send_due_task", acks_late=True)
def surveys_send_due_task() -> dict[str, int]:
    """Send the satisfaction surveys that are due; a claimed row is never sent twice."""
    from channels.services.surveys import surveys_send_due

    return surveys_send_due()
