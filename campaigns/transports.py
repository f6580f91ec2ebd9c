"""Campaign transports: how one rendered message is handed over, per channel (STYLE.md "channels are
adapters"). Email goes over one reused SMTP connection per batch; SMS through the channels' provider
interface. ``lookup`` answers whether a message whose handover was cut by a crash did reach the
provider (True / False), or None when the transport cannot know.
"""

from __future__ import annotations

import contextlib
import json
import smtplib
import ssl
import urllib.parse
import urllib.request

from django.conf import settings


class TransportError(Exception):
    """The provider refused the message. ``permanent``: never retry; else a later attempt may pass.
    ``certain``: the refusal proves nothing was handed over (an SMTP reply) — else it may have been."""

    def __init__(self, message: str, *, permanent: bool, certain: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.certain = certain


class Transport:
    def open(self) -> None:
        """Connect (once per batch)."""

    def close(self) -> None:
        """Disconnect."""

    def send(self, *, message, payload) -> str:
        """Hand one message over; return the provider's id or raise ``TransportError``."""
        raise NotImplementedError

    def lookup(self, *, message) -> bool | None:
        return None


class SmtpTransport(Transport):
    """SMTP with the connection reused for the whole batch (EMAIL_HOST / EMAIL_PORT settings)."""

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None

    def open(self) -> None:
        if self.connection is not None:
            return
        host, port, timeout = settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT or 10
        try:
            if getattr(settings, "EMAIL_USE_SSL", False):
                connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(host, port, timeout=timeout)
                if getattr(settings, "EMAIL_USE_TLS", False):
                    connection.starttls(context=ssl.create_default_context())
            if settings.EMAIL_HOST_USER:
                connection.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
        except (smtplib.SMTPException, OSError) as error:
            raise TransportError(f"SMTP connection failed: {error}", permanent=False) from None
        self.connection = connection

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None

    def send(self, *, message, payload) -> str:
        self.open()
        sender = payload.get("Return-Path") or settings.DEFAULT_FROM_EMAIL
        try:
            self.connection.sendmail(_bare(sender), [message.to_address], payload.as_bytes())
        except smtplib.SMTPRecipientsRefused as error:
            raise TransportError(f"Recipient refused: {error.recipients}", permanent=True) from None
        except smtplib.SMTPResponseException as error:
            self.close() if error.smtp_code == 421 else None
            raise TransportError(f"SMTP {error.smtp_code}: {error.smtp_error!r}",
                                 permanent=500 <= error.smtp_code < 600) from None  # fmt: skip
        except (smtplib.SMTPException, OSError) as error:
            # The connection broke mid-transaction: the relay may or may not have accepted the message.
            self.connection = None
            raise TransportError(f"SMTP connection lost: {error}", permanent=False, certain=False) from None
        return message.message_id

    def lookup(self, *, message) -> bool | None:
        url = getattr(settings, "CAMPAIGNS_SMTP_LOOKUP_URL", "")
        if not url:
            return None
        query = urllib.parse.urlencode({"message_id": message.message_id})
        try:
            with urllib.request.urlopen(f"{url}?{query}", timeout=5) as response:  # noqa: S310 - configured URL
                return bool(json.loads(response.read())["found"])
        except (OSError, ValueError, KeyError):
            return None


def _bare(address: str) -> str:
    from email.utils import parseaddr

    return parseaddr(address)[1] or address


class SmsTransport(Transport):
    """The channels' SMS provider (console for the demo, HTTP JSON API in production)."""

    def open(self) -> None:
        from channels.sms import sms_provider

        self.provider = sms_provider()

    def send(self, *, message, payload) -> str:
        from channels.sms import SmsProviderError

        try:
            result = self.provider.send(to_e164=message.to_address, body=payload["body"], sender=payload["sender"])
        except SmsProviderError as error:
            raise TransportError(
                error.message, permanent=error.permanent, certain=error.status_code is not None
            ) from None
        return result.message_id


def transport_for(channel: str) -> Transport:
    if channel == "email":
        return SmtpTransport()
    if channel == "sms":
        return SmsTransport()
    raise ValueError(f"No transport for channel {channel!r}")
