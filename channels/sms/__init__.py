"""SMS providers (console for the demo, a generic HTTP JSON API) and the one that settings choose."""

from __future__ import annotations

from django.conf import settings

from channels.sms.base import ProviderResult, SmsProvider, SmsProviderError
from channels.sms.console import ConsoleSmsProvider
from channels.sms.http import HttpSmsProvider

__all__ = ["ConsoleSmsProvider", "HttpSmsProvider", "ProviderResult", "SmsProvider", "SmsProviderError",
           "sms_provider"]  # fmt: skip


def sms_provider() -> SmsProvider:
    """The provider named by ``SMS_PROVIDER`` (read at each call, so tests can override settings)."""
    if settings.SMS_PROVIDER == "http":
        return HttpSmsProvider(url=settings.SMS_HTTP_URL, token=settings.SMS_HTTP_TOKEN,
                               timeout=settings.SMS_HTTP_TIMEOUT_SECONDS,
                               idempotent=getattr(settings, "SMS_HTTP_IDEMPOTENT", False))  # fmt: skip
    return ConsoleSmsProvider()
