"""Operational tasks of the project package."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="crm.ping_task", acks_late=True, ignore_result=False)
def ping_task() -> str:
    """Answer "pong": the health check's round trip through the broker and a worker."""
    return "pong"


@shared_task(name="crm.clear_expired_sessions_task", acks_late=True)
def clear_expired_sessions_task() -> None:
    """Delete expired sessions (Django's ``clearsessions``); idempotent."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(expire_date__lt=timezone.now()).delete()
