"""Dispatch tasks (queue ``sends``, by the ``campaigns.send_*`` route): thin, idempotent, acks late.

A task only wakes a worker up: the work is the rows of the outbox, so a task lost with Redis, or run
twice, changes nothing (the sweeper enqueues again what is due and nobody works on).
"""

from __future__ import annotations

import logging

from celery import shared_task
from kombu.exceptions import OperationalError

logger = logging.getLogger("relais.campaigns")


@shared_task(name="campaigns.send_campaign_batch_task", acks_late=True, ignore_result=True)
def send_campaign_batch_task(campaign_id: int) -> dict:
    """Send due messages of one campaign for a while, then enqueue itself again if some remain."""
    from campaigns.services.dispatch import campaign_dispatch

    report = campaign_dispatch(campaign_id=campaign_id)
    if report["more"]:
        try:
            send_campaign_batch_task.apply_async((campaign_id,), countdown=report.get("retry_in") or None)
        except OperationalError:  # Redis is away: the sweeper wakes the campaign up once it is back
            logger.warning("Campaign %s: could not re-enqueue its dispatch (broker unavailable)", campaign_id)
    return report
