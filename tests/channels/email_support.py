"""Shared helpers of the email area's tests: the corpus, message builders, an integration token."""

from __future__ import annotations

import os
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from django.utils import timezone

from crm import roles

CORPUS = Path(__file__).parent / "email_corpus"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def cpython_corpus() -> list[Path]:
    """CPython's own email test messages, when this interpreter ships them (not every install does)."""
    try:
        import test

        folder = Path(os.path.dirname(test.__file__)) / "test_email" / "data"
    except ImportError:
        return []
    return sorted(folder.glob("msg_*.txt"))


def build_message(*, sender="heloise@example.fr", to="support@relais.example", subject="Ma commande",
                  body="Bonjour, ma commande n'est pas arrivée.", message_id=None, in_reply_to=None,
                  references=None, html=None, headers=None) -> bytes:  # fmt: skip
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="example.fr")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def integration_token(make_staff):
    from crm.services import api_token_create

    user = make_staff(roles.INTEGRATION, username="mail-gateway")
    _token, key = api_token_create(user=user, name="Mail gateway", acting_user=user)
    return key
