"""Tasks of the duplicate finder (thin: they call ``customers.services.duplicates``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="customers.find_duplicates_task", acks_late=True)
def find_duplicates_task(customer_ids: list[int] | None = None) -> int:
    """Run the duplicate finder (over everyone, or over ``customer_ids``); return the new pairs found.

    Idempotent: pairs already known are skipped, so a retried or repeated run adds nothing.
    """
    from customers.services.duplicates import duplicates_find

    return duplicates_find(customer_ids=customer_ids)
