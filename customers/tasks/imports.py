"""Celery task of imports (queue "imports": names starting with ``customers.import_`` are routed there)."""

from __future__ import annotations

from celery import shared_task

from customers.services.imports import import_run


@shared_task(name="customers.import_run_task", acks_late=True)
def import_run_task(job_id: int) -> str:
    """Run import job ``job_id`` if it is still queued (a redelivered message finds it claimed and stops)."""
    job = import_run(job_id=job_id)
    return job.status if job is not None else "not-claimed"
