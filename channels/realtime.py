"""Server-sent events for the agent console: screen pops, new chats and call-backs, chat lines.

Publishers call ``publish(topic, event, html)`` (after commit); the SSE views stream a topic to the
browser, where the htmx SSE extension swaps each named event into the page. Redis pub/sub carries the
events between processes; nothing is stored there (a page that was not open simply reloads its lists
from the database). Topics: ``agent:<user id>`` (one agent's screen pops and toasts), ``console``
(every agent's queue of chats and call-backs), ``chat:<conversation id>`` (one chat, both sides).

A stream lasts ``STREAM_SECONDS`` then ends; ``EventSource`` reconnects by itself. Under ASGI
(gunicorn + uvicorn workers) the stream is an async generator holding no thread; under WSGI (the test
live server) a plain generator polls Redis once a second.
"""

from __future__ import annotations

import json
import time

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse

from crm.redis import redis_client

STREAM_SECONDS = 55
KEEPALIVE_SECONDS = 15


def channel_name(topic: str) -> str:
    """The Redis pub/sub channel of ``topic``. Pub/sub ignores Redis database numbers, so the name carries
    the cache key prefix and the database: two sites (or two test workers) sharing one Redis never hear
    each other's events."""
    db = redis_client().connection_pool.connection_kwargs.get("db", 0)
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'relais')}:{db}:sse:{topic}"


def publish(topic: str, event: str, data: str) -> int:
    """Send ``data`` (usually an HTML fragment) as SSE event ``event`` to everyone streaming ``topic``.

    Returns how many streams received it. Never raises on a Redis outage: a screen pop that cannot be
    pushed must not fail the call event that caused it (the agent's lists are still in the database).
    """
    payload = json.dumps({"event": event, "data": data})
    try:
        return int(redis_client().publish(channel_name(topic), payload))
    except redis.RedisError:
        return 0


def _frame(event: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in (data.splitlines() or [""]))
    return f"event: {event}\n{lines}\n"


def _sync_stream(topics: list[str], *, seconds: int):
    pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(*[channel_name(t) for t in topics])
    try:
        yield ": connected\n\n"
        deadline = time.monotonic() + seconds
        last_sent = time.monotonic()
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1.0)
            if message and message.get("type") == "message":
                body = json.loads(message["data"])
                yield _frame(body["event"], body["data"])
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
    finally:
        pubsub.close()


async def _async_stream(topics: list[str], *, seconds: int):
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(*[channel_name(t) for t in topics])
    try:
        yield ": connected\n\n"
        deadline = time.monotonic() + seconds
        last_sent = time.monotonic()
        while time.monotonic() < deadline:
            message = await pubsub.get_message(timeout=1.0)
            if message and message.get("type") == "message":
                body = json.loads(message["data"])
                yield _frame(body["event"], body["data"])
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
    finally:
        await pubsub.aclose()
        await client.aclose()


def sse_response(request, topics: list[str], *, seconds: int = STREAM_SECONDS) -> StreamingHttpResponse:
    """A ``text/event-stream`` response streaming ``topics`` (the caller has checked who may read them)."""
    if isinstance(request, ASGIRequest):
        stream = _async_stream(topics, seconds=seconds)
    else:
        stream = _sync_stream(topics, seconds=seconds)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
