"""The demo provider: logs each SMS and keeps the last ones in Redis for the "SMS outbox" page.

Nothing leaves the machine. Message ids are random, so delivery reports can be tried by hand.
"""

from __future__ import annotations

import json
import logging
import secrets

import redis
from django.conf import settings
from django.utils import timezone

from channels.sms.base import ProviderResult, SmsProvider
from crm.redis import redis_client

logger = logging.getLogger("relais.sms")
KEEP = 50


def _key() -> str:
    # The cache prefix differs per test worker and per deployment, so two of them never share a list.
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'relais')}:sms:console"


class ConsoleSmsProvider(SmsProvider):
    key = "console"

    def send(self, *, to_e164: str, body: str, sender: str) -> ProviderResult:
        message_id = f"console-{secrets.token_hex(8)}"
        logger.info("SMS (console provider) from %s to %s [%s]: %s", sender, to_e164, message_id, body)
        entry = {"id": message_id, "to": to_e164, "from": sender, "text": body, "at": timezone.now().isoformat()}
        try:
            client = redis_client()
            client.lpush(_key(), json.dumps(entry))
            client.ltrim(_key(), 0, KEEP - 1)
        except redis.RedisError:
            logger.warning("The console SMS outbox could not be written to Redis; the SMS is only in the log.")
        return ProviderResult(message_id=message_id, status="sent")


def console_outbox(limit: int = KEEP) -> list[dict]:
    """The last SMS the console provider took, newest first (empty if Redis is unreachable)."""
    try:
        raw = redis_client().lrange(_key(), 0, limit - 1)
    except redis.RedisError:
        return []
    return [json.loads(item) for item in raw]


def console_outbox_clear() -> None:
    redis_client().delete(_key())
