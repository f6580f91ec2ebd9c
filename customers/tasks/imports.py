"""Celery tasks of imports (queue "imports": names starting with ``customers.import_`` are routed there)."""

from __future__ import annotations

from celery import shared_task

from customers.services.imports import import_run
from customers.services.imports.jobs import import_jobs_sweep


@shared_task(name="customers.import_run_task", acks_late=True, reject_on_worker_lost=True)
def import_run_task(job_id: int) -> str:
    """Run import job ``job_id`` if it is queued, or running on an expired lease (its worker died).

    ``acks_late`` + ``reject_on_worker_lost``: a worker killed mid-import leaves the message to be
    delivered again, and the claim lets the new delivery in once the dead worker's lease expires.
    """
    job = import_run(job_id=job_id)
    return job.status if job is not None else "not-claimed"


@shared_task(name="customers.import_jobs_sweep_task", acks_late=True)
def import_jobs_sweep_task() -> int:
    """Send again the jobs whose worker died or whose message was lost (a beat job, every minute)."""
    return import_jobs_sweep()
