"""The SMS provider interface: one ``send`` that answers the provider's message id or raises.

Providers are adapters (STYLE.md "channels are adapters"): the services never know which one runs.
``SmsProviderError.permanent`` separates a refusal that will never heal (invalid number, rejected
text, bad credentials) from a transient one (timeout, 5xx) that a later attempt may pass.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderResult:
    """What the provider answered: its id for the message (used for delivery reports) and a status."""

    message_id: str
    status: str


class SmsProviderError(Exception):
    """The provider did not take the message; ``message`` is the provider's own reason when it gave one."""

    def __init__(self, message: str, *, permanent: bool, status_code: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code
        self.attempts = attempts


class SmsProvider:
    """Base class: subclasses implement ``send`` and name themselves in ``key``."""

    key = ""

    def send(self, *, to_e164: str, body: str, sender: str) -> ProviderResult:
        """Hand one SMS to the provider; return its ``ProviderResult`` or raise ``SmsProviderError``."""
        raise SmsProviderError(f"The SMS provider {type(self).__name__} cannot send.", permanent=True)
