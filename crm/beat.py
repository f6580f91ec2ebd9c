"""Celery beat's scheduler: django-celery-beat's database schedule, plus a heartbeat for /health/."""

from __future__ import annotations

import logging
import time

from django_celery_beat.schedulers import DatabaseScheduler

BEAT_TICK_KEY = "relais:beat:last_tick"
logger = logging.getLogger("relais.beat")


def beat_last_tick() -> float | None:
    """Unix time of beat's last tick, or None if beat never ticked (raises if Redis is down)."""
    from crm.redis import redis_client

    value = redis_client().get(BEAT_TICK_KEY)
    return float(value) if value is not None else None


class RelaisDatabaseScheduler(DatabaseScheduler):
    """Records each tick in Redis so the health check can tell a live beat from a dead one."""

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        try:
            from crm.redis import redis_client

            redis_client().set(BEAT_TICK_KEY, repr(time.time()), ex=24 * 3600)
        except Exception as exc:  # noqa: BLE001 - a Redis outage must not stop the schedule itself
            logger.warning("beat could not record its heartbeat in Redis: %s", exc)
        return interval
