"""Strict readers for environment variables: a bad value stops start-up and names the variable."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_str(name: str, *, default: str) -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of: true, false, 1, 0, yes, no, on, off.")


def env_int(name: str, *, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_float(name: str, *, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not value > 0:
        raise ImproperlyConfigured(f"{name}={raw!r} must be a number of seconds above 0.")
    return value


def env_list(name: str, *, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def celery_urls_from_redis_url(redis_url: str) -> tuple[str, str]:
    """Return Celery's ``(broker_url, result_backend)`` for a Redis URL.

    For a unix socket, kombu spells the database ``virtual_host`` and Celery's result backend ``db``.
    """
    parsed = urlparse(redis_url)
    if parsed.scheme == "unix":
        db = parse_qs(parsed.query).get("db", ["0"])[0]
        return f"redis+socket://{parsed.path}?virtual_host={db}", f"redis+socket://{parsed.path}?db={db}"
    if parsed.scheme in {"redis", "rediss"}:
        return redis_url, redis_url
    raise ImproperlyConfigured(
        f"REDIS_URL={redis_url!r} must start with redis://, rediss:// or unix:// (a Redis 6+ server)."
    )
