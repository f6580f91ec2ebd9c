"""Celery tasks of the analytics app (thin: they call ``analytics.services``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="analytics.scores_compute_task", acks_late=True)
def scores_compute_task() -> dict:
    """Recompute every live customer's scores and the product recommendations (the nightly job).

    Idempotent: the scores and similarities are upserted, so a redelivered run replaces, never adds.
    """
    from analytics.services.recommendations import offers_clicks_record, similarities_compute
    from analytics.services.scores import scores_compute

    result = scores_compute()
    pairs = similarities_compute()
    clicks = offers_clicks_record()
    return {"run": result.run.pk, "customers": result.customers, "buyers": result.buyers, "similarities": pairs,
            "offer_clicks": clicks}  # fmt: skip
