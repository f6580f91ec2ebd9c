"""Tasks of the duplicate finder (thin: they call ``customers.services.duplicates``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="customers.find_duplicates_task", acks_late=True)
def find_duplicates_task(customer_ids: list[int] | None = None) -> int:
    """Run the duplicate finder (over everyone, or over ``customer_ids``); return the new pairs found.

    Idempotent: pairs already known are skipped, so a retried or repeated run adds nothing.
    """
    from customers.services.duplicates import duplicate_scan_state_set, duplicates_find

    if customer_ids is not None:  # a run for a few customers (imports): nobody watches it
        return duplicates_find(customer_ids=customer_ids)
    duplicate_scan_state_set("running")
    found = duplicates_find(customer_ids=None)
    duplicate_scan_state_set("done", found=found)
    return found
