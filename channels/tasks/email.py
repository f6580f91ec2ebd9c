"""Celery tasks: email (thin: they call ``channels.services.imap``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="channels.mailboxes_poll_task", acks_late=True, ignore_result=True)
def mailboxes_poll_task() -> dict:
    """Read every active IMAP mailbox (beat, every minute); return counts per mailbox.

    Idempotent: UIDs already read are skipped and a message stored twice is detected by Message-ID, so
    two overlapping runs store nothing twice.
    """
    from channels.services.imap import mailboxes_poll

    return {
        result.mailbox: {"stored": result.stored, "duplicates": result.duplicates, "rejected": len(result.rejected),
                         "error": result.error, "skipped": result.skipped}
        for result in mailboxes_poll()
    }  # fmt: skip
