"""A generic JSON SMS API: ``POST {to, from, text}`` with ``Authorization: Bearer <token>``.

The provider answers 2xx with ``{"id": "...", "status": "..."}`` (``message_id`` is accepted too).
Timeouts, connection errors and 5xx/429 answers are retried (``RETRIES`` more attempts, short
back-off) and logged at each attempt; 4xx answers are permanent and raised at once with the
provider's own message. Nothing is retried silently: the error says how many attempts were made.
"""

from __future__ import annotations

import logging
import time

import requests

from channels.sms.base import ProviderResult, SmsProvider, SmsProviderError

logger = logging.getLogger("relais.sms")
RETRIES = 2
BACKOFF_SECONDS = 0.5


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
                 backoff: float = BACKOFF_SECONDS) -> None:  # fmt: skip
        self.url = url
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def send(self, *, to_e164: str, body: str, sender: str) -> ProviderResult:
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._attempt(to_e164=to_e164, body=body, sender=sender, attempts=attempts)
            except SmsProviderError as error:
                if error.permanent or attempts > self.retries:
                    raise
                logger.warning("SMS provider attempt %s failed (%s); retrying", attempts, error.message)
                time.sleep(self.backoff * attempts)

    def _attempt(self, *, to_e164: str, body: str, sender: str, attempts: int) -> ProviderResult:
        try:
            response = requests.post(
                self.url,
                json={"to": to_e164, "from": sender, "text": body},
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.Timeout:
            raise SmsProviderError(
                f"The SMS provider did not answer within {self.timeout:g} s (attempt {attempts}).",
                permanent=False, attempts=attempts,
            ) from None  # fmt: skip
        except requests.RequestException as exc:
            raise SmsProviderError(
                f"The SMS provider cannot be reached (attempt {attempts}): {exc.__class__.__name__}.",
                permanent=False, attempts=attempts,
            ) from None  # fmt: skip
        if response.status_code >= 400:
            transient = response.status_code >= 500 or response.status_code == 429
            raise SmsProviderError(
                f"The SMS provider refused the message (HTTP {response.status_code}, attempt {attempts}): "
                f"{_provider_message(response)}",
                permanent=not transient, status_code=response.status_code, attempts=attempts,
            )  # fmt: skip
        try:
            payload = response.json()
        except ValueError:
            payload = None
        message_id = ""
        if isinstance(payload, dict):
            message_id = str(payload.get("id") or payload.get("message_id") or "")
        if not message_id:
            # The message may have gone: retrying could send it twice, so this is not retried.
            raise SmsProviderError(
                f"The SMS provider answered HTTP {response.status_code} without a message id.",
                permanent=True, status_code=response.status_code, attempts=attempts,
            )  # fmt: skip
        return ProviderResult(message_id=message_id[:255], status=str(payload.get("status") or "accepted")[:30])
