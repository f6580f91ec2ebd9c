"""Health checks behind /health/: the database, Redis, a live Celery worker and beat's heartbeat.

Each check returns within its own timeout; a failing part is named, so a load balancer's log or an
operator's curl says what is down.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from crm.beat import beat_last_tick


@dataclass
class CheckResult:
    ok: bool
    ms: float
    detail: str = ""

    def as_dict(self) -> dict:
        result = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.detail:
            result["detail"] = self.detail
        return result


def _timed(check) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = check() or ""
        ok = True
    except Exception as exc:  # noqa: BLE001 - any failure is the answer we report
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
    return CheckResult(ok=ok, ms=(time.perf_counter() - started) * 1000, detail=detail)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return ""


def check_redis() -> str:
    from crm.redis import redis_client

    redis_client().ping()
    return ""


def check_worker() -> str:
    """Round trip through the broker: a worker must take the task and answer in time."""
    from crm.tasks import ping_task

    result = ping_task.apply_async(retry=False, expires=settings.HEALTH_WORKER_TIMEOUT_SECONDS)
    try:
        answer = result.get(timeout=settings.HEALTH_WORKER_TIMEOUT_SECONDS)
    except Exception as exc:
        raise RuntimeError(f"no worker answered within {settings.HEALTH_WORKER_TIMEOUT_SECONDS} s") from exc
    finally:
        result.forget()
    if answer != "pong":
        raise RuntimeError(f"unexpected answer {answer!r}")
    return ""


def check_beat() -> str:
    last = beat_last_tick()
    if last is None:
        raise RuntimeError("beat has never ticked")
    age = time.time() - last
    if age > settings.BEAT_STALE_AFTER_SECONDS:
        raise RuntimeError(f"last tick {age:.0f} s ago (more than {settings.BEAT_STALE_AFTER_SECONDS} s)")
    return f"last tick {age:.0f} s ago"


def health_report() -> dict:
    """Run every check; ``status`` is "ok" or "fail" and ``failing`` names the parts that are down."""
    checks = {"database": _timed(check_database), "redis": _timed(check_redis)}
    if checks["redis"].ok:
        checks["worker"] = _timed(check_worker)
        checks["beat"] = _timed(check_beat)
    else:
        # Both need Redis; waiting for their timeouts would only delay the answer.
        skipped = CheckResult(ok=False, ms=0, detail="not checked: Redis is down")
        checks["worker"] = checks["beat"] = skipped
    failing = [name for name, result in checks.items() if not result.ok]
    return {
        "status": "fail" if failing else "ok",
        "failing": failing,
        "checks": {name: result.as_dict() for name, result in checks.items()},
    }
