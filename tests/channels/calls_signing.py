"""Signing call events as the telephony system does (shared by the calls tests, the browser test and the bench)."""

from __future__ import annotations

import json
import time

from channels.services.calls import call_event_signature

SECRET = "test-cti-secret-0123456789abcdef0123456789"
URL = "/api/v1/channels/calls/"


def signed_headers(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Relais-Timestamp": stamp,
        "X-Relais-Signature": call_event_signature(secret=secret, timestamp=stamp, body=body),
    }


def post_event(client, payload: dict, **signing):
    """POST one signed call event with Django's test client; returns the response."""
    body = json.dumps(payload).encode()
    headers = signed_headers(body, **signing)
    return client.post(URL, data=body, content_type="application/json", headers=headers)
