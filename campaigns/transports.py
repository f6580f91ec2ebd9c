"""Campaign transports: how one rendered message is handed over, per channel (STYLE.md "channels are
adapters"). Email goes through Django's mail backend (``EMAIL_URL``: SMTP in production, with one
connection reused for a whole batch); SMS through the channels' provider interface. Letters and call
tasks are not handed to a provider: ``campaigns.services.offline`` turns them into a letter batch and
agents' tasks, and ``transport_for`` refuses them plainly.

``lookup`` answers whether a message whose handover was cut by a crash did reach the provider (True /
False), or None when the transport cannot know (then it is never sent again: at most once).
"""

from __future__ import annotations

import contextlib
import json
import smtplib
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.mail import get_connection


class TransportError(Exception):
    """The provider refused the message. ``permanent``: never retry; else a later attempt may pass.
    ``certain``: the refusal proves nothing was handed over (an SMTP reply) — else it may have been."""

    def __init__(self, message: str, *, permanent: bool, certain: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.certain = certain


class Transport:
    """Base class: ``send`` hands one message over and returns the provider's id."""

    channel = ""

    def open(self) -> None:
        """Connect (once per batch)."""

    def close(self) -> None:
        """Disconnect."""

    def send(self, *, message, payload) -> str:
        raise TransportError(f"{type(self).__name__} cannot send.", permanent=True)

    def lookup(self, *, message) -> bool | None:
        return None


class EmailTransport(Transport):
    """Django's configured mail backend, opened once per batch (SMTP keeps its connection open)."""

    channel = "email"

    def __init__(self) -> None:
        self.connection = None

    def open(self) -> None:
        if self.connection is not None:
            return
        connection = get_connection(fail_silently=False)
        try:
            connection.open()
        except (smtplib.SMTPException, OSError) as error:
            raise TransportError(f"The mail server cannot be reached: {error}", permanent=False) from None
        self.connection = connection

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None

    def send(self, *, message, payload) -> str:
        self.open()
        try:
            self.connection.send_messages([payload])
        except smtplib.SMTPRecipientsRefused as error:
            raise TransportError(f"Recipient refused: {list(error.recipients.values())}", permanent=True) from None
        except smtplib.SMTPServerDisconnected as error:
            # The connection broke mid-transaction: the relay may or may not have taken the message.
            self.close()
            raise TransportError(f"The mail server hung up: {error}", permanent=False, certain=False) from None
        except smtplib.SMTPResponseException as error:
            # The server answered: nothing was taken. 421 closes the connection; 5xx is final.
            if error.smtp_code == 421:
                self.close()
            raise TransportError(f"SMTP {error.smtp_code}: {error.smtp_error!r}",
                                 permanent=500 <= error.smtp_code < 600) from None  # fmt: skip
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise TransportError(f"The mail connection broke: {error}", permanent=False, certain=False) from None
        return message.message_id

    def lookup(self, *, message) -> bool | None:
        """Ask the relay (``CAMPAIGNS_SMTP_LOOKUP_URL``) whether it took this Message-ID."""
        url = settings.CAMPAIGNS_SMTP_LOOKUP_URL
        if not url:
            return None
        query = urllib.parse.urlencode({"message_id": message.message_id})
        try:
            with urllib.request.urlopen(f"{url}?{query}", timeout=5) as response:  # noqa: S310 - configured URL
                return bool(json.loads(response.read())["found"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


class SmsTransport(Transport):
    """The channels' SMS provider (console for the demo, the HTTP JSON API in production)."""

    channel = "sms"

    def open(self) -> None:
        from channels.sms import sms_provider

        self.provider = sms_provider()

    def send(self, *, message, payload) -> str:
        from channels.sms import SmsProviderError

        try:
            result = self.provider.send(to_e164=message.to_address, body=payload["body"], sender=payload["sender"])
        except SmsProviderError as error:
            # An HTTP answer proves what the provider did; a timeout or a broken connection does not.
            raise TransportError(
                error.message, permanent=error.permanent, certain=error.status_code is not None
            ) from None
        return result.message_id


TRANSPORTS = {"email": EmailTransport, "sms": SmsTransport}


def transport_for(channel: str) -> Transport:
    """The transport of ``channel``; letters and call tasks have none (they are not handed to a provider)."""
    try:
        return TRANSPORTS[channel]()
    except KeyError:
        raise TransportError(
            f"The {channel!r} channel has no transport: letters go through the postal batch and calls become "
            "agents' tasks.",
            permanent=True,
        ) from None
