"""Celery tasks: web (thin: they call ``channels.services.web``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="channels.web_sessions_summarise_task", acks_late=True)
def web_sessions_summarise_task() -> dict:
    """Summarise the finished web sessions of known customers onto the timeline; return the counts.

    Idempotent: a session already summarised is updated, never duplicated, so a retried run is safe.
    """
    from channels.services.web import web_sessions_summarise

    result = web_sessions_summarise()
    return {"created": result.created, "updated": result.updated, "forms": result.forms, "pending": result.pending}
