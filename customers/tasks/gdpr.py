"""Celery tasks of personal data: the nightly retention job."""

from __future__ import annotations

from celery import shared_task

from customers.services.retention import retention_run


@shared_task(name="customers.retention_run_task", acks_late=True)
def retention_run_task() -> int:
    """Flag prospects past the retention period (and anonymise them if configured); return how many."""
    return retention_run()
