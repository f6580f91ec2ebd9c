"""Segment refreshes, on the ``segments`` queue (routed by name: ``campaigns.segment_*``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="campaigns.segment_refresh_task", acks_late=True)
def segment_refresh_task(segment_id: int) -> dict | None:
    """Materialise one dynamic segment (set-based, idempotent: a second run finds nothing to change)."""
    from campaigns.services.segments import segment_materialise

    result = segment_materialise(segment_id=segment_id)
    return None if result is None else {"size": result.size, "entered": result.entered, "left": result.left}


@shared_task(name="campaigns.segment_refresh_due_task", acks_late=True)
def segment_refresh_due_task() -> int:
    """Queue a refresh of every dynamic segment older than ``SEGMENT_REFRESH_MINUTES`` (beat, every 15 min)."""
    from campaigns.services.segments import segments_due_for_refresh

    due = segments_due_for_refresh()
    for segment_id in due:
        segment_refresh_task.delay(segment_id)
    return len(due)
