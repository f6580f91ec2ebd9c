"""Operations: live health, queue depths and the beat schedule; Prometheus metrics."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django_celery_beat.models import PeriodicTask
from django_prometheus.exports import ExportToDjangoView

from crm.access import public_view, staff_view
from crm.celery import app as celery_app
from crm.health import health_report


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each Celery queue (None when Redis does not answer)."""
    from crm.redis import redis_client

    names = [queue.name for queue in celery_app.conf.task_queues]
    try:
        pipe = redis_client().pipeline()
        for name in names:
            pipe.llen(name)
        return dict(zip(names, pipe.execute(), strict=True))
    except Exception:  # noqa: BLE001 - shown as "unknown" on the page
        return dict.fromkeys(names)


@staff_view(permission="crm.view_operations")
def operations(request):
    context = {
        "report": health_report(),
        "queues": queue_depths(),
        "jobs": PeriodicTask.objects.select_related("interval", "crontab").order_by("name"),
    }
    return render(request, "crm/operations.html", context)


@public_view
def metrics(request):
    """Prometheus exposition: for staff with the operations permission, or ``Bearer METRICS_TOKEN``."""
    header = request.headers.get("Authorization", "")
    token_ok = bool(settings.METRICS_TOKEN) and hmac.compare_digest(header, f"Bearer {settings.METRICS_TOKEN}")
    if not token_ok and not request.user.has_perm("crm.view_operations"):
        raise PermissionDenied
    return ExportToDjangoView(request)
