"""Celery tasks: postal mail (thin: they call ``channels.services.postal``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="channels.letter_batch_run_task", acks_late=True, reject_on_worker_lost=True)
def letter_batch_run_task(batch_id: int) -> str:
    """Write the letters of batch ``batch_id`` if it is queued, or running on an expired lease.

    ``acks_late`` + ``reject_on_worker_lost``: a worker killed mid-batch leaves the message to be
    delivered again; the new run skips the customers already written (each chunk commits).
    """
    from channels.services.postal import letter_batch_run

    batch = letter_batch_run(batch_id=batch_id)
    return batch.status if batch is not None else "not-claimed"
