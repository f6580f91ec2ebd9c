"""The outbox sweeper (beat, every minute): finishes what crashed workers or a lost Redis left."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="campaigns.outbox_sweep_task", acks_late=True, ignore_result=True)
def outbox_sweep_task() -> dict:
    """Release expired claims, check interrupted handovers, complete finished campaigns, and wake the
    running campaigns that have due messages and no worker on them."""
    from campaigns.services.dispatch import outbox_sweep
    from campaigns.tasks.dispatch import send_campaign_batch_task

    report = outbox_sweep()
    for campaign_id in report["wake"]:
        send_campaign_batch_task.delay(campaign_id)
    return report
