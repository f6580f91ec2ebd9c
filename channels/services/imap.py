"""IMAP mailboxes: fetch what arrived since the last poll and store it with ``email_inbound_record_many``.

Each ``Mailbox`` keeps the folder's UIDVALIDITY and the last UID read, so nothing is read twice; a
changed UIDVALIDITY (the server renumbered the folder) starts over from the first message, and the
Message-ID idempotency of email in keeps that from storing anything twice. Read messages are flagged
``\\Seen``. Errors are recorded on the mailbox (``last_error``) and never stop the other mailboxes.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import Mailbox
from channels.services.email_in import email_inbound_record_many
from crm.errors import ApplicationError

logger = logging.getLogger(__name__)

BATCH = 200  # messages per mailbox per poll: a backlog drains over a few polls, no poll runs for ever
STORE_BATCH = 100  # messages stored per transaction (``email_inbound_record_many``)
TIMEOUT_SECONDS = 30
LOCK_NAMESPACE = 0x6D61696C  # "mail": the advisory lock space of mailbox polling


@dataclass
class MailboxPollResult:
    mailbox: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    error: str = ""
    skipped: bool = False


class MailboxError(Exception):
    """The mailbox could not be read (connection, login, folder); the message says which."""


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    try:
        if mailbox.use_ssl:
            client = imaplib.IMAP4_SSL(
                mailbox.imap_host, mailbox.imap_port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS
            )
        else:
            client = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(
            _("Cannot connect to %(host)s:%(port)s: %(error)s")
            % {"host": mailbox.imap_host, "port": mailbox.imap_port, "error": exc}
        ) from exc
    try:
        client.login(mailbox.username, mailbox.password)
    except imaplib.IMAP4.error as exc:
        _logout(client)
        raise MailboxError(_("The server refused the login of %(user)s: %(error)s")
                           % {"user": mailbox.username, "error": _text(exc)}) from exc  # fmt: skip
    return client


def _logout(client: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        client.logout()


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Exception) and value.args:
        return _text(value.args[0])
    return str(value)


def _uid_validity(client: imaplib.IMAP4, folder: str) -> int:
    status, data = client.select(_quoted(folder))
    if status != "OK":
        raise MailboxError(
            _("Cannot open the folder %(folder)s: %(error)s") % {"folder": folder, "error": _text(data[0])}
        )
    _name, values = client.response("UIDVALIDITY")
    if values and values[0]:
        return int(values[0])
    _status, data = client.status(_quoted(folder), "(UIDVALIDITY)")
    match = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
    if not match:
        raise MailboxError(_("The server did not give the folder's UIDVALIDITY."))
    return int(match.group(1))


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mailbox_poll(*, mailbox: Mailbox) -> MailboxPollResult:
    """Read the new messages of one mailbox into the timeline; return counts and the error, if any.

    Stores the messages ``STORE_BATCH`` at a time, each batch in one transaction
    (``email_inbound_record_many``), and advances ``last_uid`` after each batch (its messages stored,
    or rejected with a reason), so a crash halfway re-reads at most one batch, which the Message-ID
    idempotency then ignores. Records
    ``last_polled_at`` and ``last_error`` (cleared on success).
    """
    result = MailboxPollResult(mailbox=mailbox.address)
    try:
        client = _connect(mailbox)
    except MailboxError as exc:
        return _failed(mailbox, result, str(exc))
    try:
        validity = _uid_validity(client, mailbox.folder)
        last_uid = mailbox.last_uid
        if mailbox.uid_validity != validity:
            last_uid = 0
            Mailbox.objects.filter(pk=mailbox.pk).update(uid_validity=validity, last_uid=0)
            mailbox.uid_validity, mailbox.last_uid = validity, 0
        status, data = client.uid("SEARCH", None, f"UID {last_uid + 1}:*")
        if status != "OK":
            raise MailboxError(_("The server refused the search: %(error)s") % {"error": _text(data[0])})
        # "N:*" always matches the last message, even when its UID is below N: filter.
        uids = sorted(int(uid) for uid in (data[0] or b"").split() if int(uid) > last_uid)[:BATCH]
        for start in range(0, len(uids), STORE_BATCH):
            chunk = uids[start : start + STORE_BATCH]
            raws = [_fetch(client, uid) for uid in chunk]
            result.fetched += len(chunk)
            outcomes = email_inbound_record_many(raws, mailbox=mailbox, source="imap")
            for uid, outcome in zip(chunk, outcomes, strict=True):
                if isinstance(outcome, ApplicationError):
                    result.rejected.append(f"UID {uid}: {outcome.message}")
                    logger.warning("mailbox %s: message UID %s rejected: %s", mailbox.address, uid, outcome.message)
                elif outcome.status == "duplicate":
                    result.duplicates += 1
                else:
                    result.stored += 1
            client.uid("STORE", ",".join(str(uid) for uid in chunk), "+FLAGS", "(\\Seen)")
            Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=chunk[-1])
            mailbox.last_uid = chunk[-1]
    except MailboxError as exc:
        return _failed(mailbox, result, str(exc))
    except (OSError, imaplib.IMAP4.error) as exc:
        return _failed(mailbox, result, _("The connection failed while reading: %(error)s") % {"error": _text(exc)})
    finally:
        _logout(client)
    error = "; ".join(result.rejected)[:2000]
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error=error)
    return result


def _fetch(client: imaplib.IMAP4, uid: int) -> bytes:
    status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if status != "OK":
        raise MailboxError(_("Cannot fetch message UID %(uid)s: %(error)s") % {"uid": uid, "error": _text(data[0])})
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return b""


def _failed(mailbox: Mailbox, result: MailboxPollResult, error: str) -> MailboxPollResult:
    logger.warning("mailbox %s: %s", mailbox.address, error)
    result.error = error
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error=error[:2000])
    return result


def mailboxes_poll(*, mailbox_ids: list[int] | None = None) -> list[MailboxPollResult]:
    """Poll every active mailbox (or those of ``mailbox_ids``), one after the other; one failing
    mailbox is recorded and the others are still read."""
    mailboxes = (
        Mailbox.objects.filter(is_active=True)
        .select_related("queue")
        .order_by(F("last_polled_at").asc(nulls_first=True))
    )
    if mailbox_ids is not None:
        mailboxes = mailboxes.filter(pk__in=mailbox_ids)
    results = []
    for mailbox in mailboxes:
        with _poll_lock(mailbox) as acquired:
            if not acquired:  # the previous run is still reading it (a large backlog, a slow server)
                results.append(MailboxPollResult(mailbox=mailbox.address, skipped=True))
                continue
            try:
                results.append(mailbox_poll(mailbox=mailbox))
            except Exception as exc:  # noqa: BLE001 - a bug or database error on one mailbox must not stop the rest
                logger.exception("mailbox %s: unexpected error", mailbox.address)
                results.append(_failed(mailbox, MailboxPollResult(mailbox=mailbox.address), repr(exc)))
    return results


@contextlib.contextmanager
def _poll_lock(mailbox: Mailbox):
    """A PostgreSQL session lock per mailbox, so two overlapping runs never read the same one at once."""
    key = (LOCK_NAMESPACE, mailbox.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
