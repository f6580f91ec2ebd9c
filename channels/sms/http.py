"""A generic JSON SMS API: ``POST {to, from, text}`` with ``Authorization: Bearer <token>``.

The provider answers 2xx with ``{"id": "...", "status": "..."}`` (``message_id`` is accepted too).
Every attempt of one ``send`` carries the same ``Idempotency-Key`` header.

Retries never send an SMS twice. Retried (``RETRIES`` more attempts, short back-off, logged) is only
what provably did not reach the provider: no connection made (refused, name not resolved, connect
timeout) and the answers that say the message was not taken (429 Too Many Requests, 503 Service
Unavailable). A read timeout, a connection dropped after the request left, or another 5xx may
follow a message the provider did take: those are retried only when the provider honours the
idempotency key (``idempotent=True``, setting ``SMS_HTTP_IDEMPOTENT``); otherwise the error says the
SMS may have been sent and nothing is resent. 4xx answers are permanent and raised at once with the
provider's own message. The error always says how many attempts were made.
"""

from __future__ import annotations

import logging
import time
import uuid

import requests
import urllib3.exceptions

from channels.sms.base import ProviderResult, SmsProvider, SmsProviderError

logger = logging.getLogger("relais.sms")
RETRIES = 2
BACKOFF_SECONDS = 0.5
# Answers that say the provider did not take the message (it is safe to send it again).
NOT_TAKEN = frozenset({429, 503})


def _never_connected(exc: requests.RequestException) -> bool:
    """Whether the request failed before a connection to the provider existed (so nothing was sent)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.ReadTimeout):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    # NewConnectionError covers refused connections and unresolved names (NameResolutionError).
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)


def _provider_message(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            error = error.get("message") or error.get("code")
        message = error or payload.get("message") or payload.get("detail")
        if message:
            return str(message)[:300]
    return response.text.strip()[:300] or response.reason


class HttpSmsProvider(SmsProvider):
    key = "http"

    def __init__(self, *, url: str, token: str, timeout: float = 10, retries: int = RETRIES,
                 backoff: float = BACKOFF_SECONDS, idempotent: bool = False) -> None:  # fmt: skip
        self.url = url
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.idempotent = idempotent

    def send(self, *, to_e164: str, body: str, sender: str) -> ProviderResult:
        key = f"relais-{uuid.uuid4().hex}"
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._attempt(to_e164=to_e164, body=body, sender=sender, key=key, attempts=attempts)
            except _Attempt as failed:
                error = failed.error
                if error.permanent or attempts > self.retries or not (failed.resend_is_safe or self.idempotent):
                    raise error from None
                logger.warning("SMS provider attempt %s failed (%s); retrying", attempts, error.message)
                time.sleep(self.backoff * attempts)

    def _attempt(self, *, to_e164: str, body: str, sender: str, key: str, attempts: int) -> ProviderResult:
        maybe_sent = "" if self.idempotent else " The SMS may have been sent: it was not sent again."
        try:
            response = requests.post(
                self.url,
                json={"to": to_e164, "from": sender, "text": body},
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json", "Idempotency-Key": key},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            if _never_connected(exc):
                raise _Attempt(SmsProviderError(
                    f"The SMS provider cannot be reached (attempt {attempts}): {exc.__class__.__name__}.",
                    permanent=False, attempts=attempts,
                ), resend_is_safe=True) from None  # fmt: skip
            if isinstance(exc, requests.Timeout):
                message = f"The SMS provider did not answer within {self.timeout:g} s (attempt {attempts})."
            else:
                message = f"The connection to the SMS provider broke (attempt {attempts}): {exc.__class__.__name__}."
            raise _Attempt(SmsProviderError(message + maybe_sent, permanent=False, attempts=attempts),
                           resend_is_safe=False) from None  # fmt: skip
        if response.status_code >= 400:
            transient = response.status_code >= 500 or response.status_code == 429
            not_taken = response.status_code in NOT_TAKEN
            raise _Attempt(SmsProviderError(
                f"The SMS provider refused the message (HTTP {response.status_code}, attempt {attempts}): "
                f"{_provider_message(response)}" + ("" if not transient or not_taken else maybe_sent),
                permanent=not transient, status_code=response.status_code, attempts=attempts,
            ), resend_is_safe=not_taken)  # fmt: skip
        try:
            payload = response.json()
        except ValueError:
            payload = None
        message_id = ""
        if isinstance(payload, dict):
            message_id = str(payload.get("id") or payload.get("message_id") or "")
        if not message_id:
            # The message may have gone: retrying could send it twice, so this is not retried.
            raise _Attempt(SmsProviderError(
                f"The SMS provider answered HTTP {response.status_code} without a message id.",
                permanent=True, status_code=response.status_code, attempts=attempts,
            ), resend_is_safe=False)  # fmt: skip
        return ProviderResult(message_id=message_id[:255], status=str(payload.get("status") or "accepted")[:30])


class _Attempt(Exception):
    """One failed attempt: the error to raise, and whether sending again cannot duplicate the SMS."""

    def __init__(self, error: SmsProviderError, *, resend_is_safe: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.resend_is_safe = resend_is_safe
