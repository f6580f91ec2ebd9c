"""IMAP mailboxes against a real Dovecot: nothing read twice, \\Seen set, errors kept per mailbox."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from channels.models import Case, Interaction, Mailbox
from channels.services.imap import mailboxes_poll
from channels.tasks.email import mailboxes_poll_task
from tests.channels import email_dovecot, email_support
from tests.channels.email_support import build_message, corpus
from tests.channels_factories import QueueFactory
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db
dovecot = email_dovecot.dovecot
media = email_support.media


def _mailbox(server, *, queue=None, **fields) -> Mailbox:
    user = server.fresh_user()
    return Mailbox.objects.create(
        name=user.title(), address=f"{user}@relais.example", imap_host=server.host, imap_port=server.port,
        use_ssl=False, username=user, password=server.users[user], queue=queue, **fields,
    )  # fmt: skip


def test_it_reads_new_messages_into_the_mailbox_queue_and_marks_them_seen(dovecot, media):
    queue = QueueFactory(name="Support")
    mailbox = _mailbox(dovecot, queue=queue)
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="heloise@example.fr")
    dovecot.append(mailbox.username, build_message(message_id="<imap-1@example.fr>"))
    dovecot.append(mailbox.username, corpus("nested_with_attachments.eml"))

    [result] = mailboxes_poll()
    assert (result.fetched, result.stored, result.error) == (2, 2, "")
    first = Interaction.objects.get(external_id="imap-1@example.fr")
    assert first.customer == customer and first.case.queue == queue
    assert first.metadata["mailbox"] == mailbox.address and first.metadata["source"] == "imap"
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2 and mailbox.uid_validity and mailbox.last_error == ""
    assert mailbox.last_polled_at is not None
    assert all("\\Seen" in flags for flags in dovecot.flags(mailbox.username).values())


def test_nothing_is_read_twice_and_only_new_messages_are_fetched(dovecot, media):
    mailbox = _mailbox(dovecot)
    dovecot.append(mailbox.username, build_message(message_id="<once-1@example.fr>"))
    assert mailboxes_poll()[0].fetched == 1
    assert mailboxes_poll()[0].fetched == 0

    dovecot.append(mailbox.username, build_message(message_id="<once-2@example.fr>"))
    [result] = mailboxes_poll()
    assert (result.fetched, result.stored) == (1, 1)
    assert Interaction.objects.filter(external_id__startswith="once-").count() == 2


def test_a_changed_uidvalidity_rereads_the_folder_without_storing_twice(dovecot, media):
    mailbox = _mailbox(dovecot)
    dovecot.append(mailbox.username, build_message(message_id="<validity@example.fr>"))
    mailboxes_poll()
    Mailbox.objects.filter(pk=mailbox.pk).update(uid_validity=1)  # as if the server had renumbered the folder
    [result] = mailboxes_poll()
    assert (result.fetched, result.stored, result.duplicates) == (1, 0, 1)
    assert Interaction.objects.filter(external_id="validity@example.fr").count() == 1


def test_a_rejected_message_is_recorded_and_skipped(dovecot, media):
    mailbox = _mailbox(dovecot)
    dovecot.append(mailbox.username, b"Subject: nobody sent this\r\n\r\nno sender\r\n")
    dovecot.append(mailbox.username, build_message(message_id="<after-bad@example.fr>"))
    [result] = mailboxes_poll()
    assert (result.fetched, result.stored, len(result.rejected)) == (2, 1, 1)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2 and "no sender address" in mailbox.last_error
    assert mailboxes_poll()[0].fetched == 0


def test_one_failing_mailbox_does_not_stop_the_others(dovecot, media):
    broken = _mailbox(dovecot)
    Mailbox.objects.filter(pk=broken.pk).update(password="wrong")
    unreachable = _mailbox(dovecot)
    Mailbox.objects.filter(pk=unreachable.pk).update(imap_port=email_dovecot.free_port())
    working = _mailbox(dovecot)
    dovecot.append(working.username, build_message(message_id="<works@example.fr>"))

    results = {result.mailbox: result for result in mailboxes_poll()}
    assert results[working.address].stored == 1
    broken.refresh_from_db()
    unreachable.refresh_from_db()
    assert "refused the login" in broken.last_error
    assert "Cannot connect" in unreachable.last_error
    assert Interaction.objects.filter(external_id="works@example.fr").exists()


def test_inactive_mailboxes_are_not_read(dovecot, media):
    mailbox = _mailbox(dovecot, is_active=False)
    dovecot.append(mailbox.username, build_message())
    assert mailboxes_poll() == []
    assert Interaction.objects.count() == 0


def test_the_beat_task_and_the_command_read_the_mailboxes(dovecot, media, capsys):
    mailbox = _mailbox(dovecot)
    dovecot.append(mailbox.username, build_message(message_id="<task@example.fr>", subject="Out of office"))
    summary = mailboxes_poll_task.delay().get()
    assert summary[mailbox.address]["stored"] == 1
    assert Case.objects.count() == 0  # an auto-reply: stored, no case

    dovecot.append(mailbox.username, build_message(message_id="<command@example.fr>"))
    call_command("mailboxes_poll", "--mailbox", str(mailbox.pk))
    assert "1 fetched, 1 stored" in capsys.readouterr().out
    assert Interaction.objects.filter(external_id="command@example.fr").exists()


def test_a_mailbox_another_run_is_reading_is_skipped(dovecot, media):
    import psycopg
    from django.db import connection

    from channels.services.imap import LOCK_NAMESPACE

    mailbox = _mailbox(dovecot)
    dovecot.append(mailbox.username, build_message(message_id="<locked@example.fr>"))
    settings = connection.settings_dict
    other = psycopg.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"] or None,
                            port=settings["PORT"] or None, autocommit=True)  # fmt: skip
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, mailbox.pk))
        [result] = mailboxes_poll()
        assert result.skipped and result.fetched == 0
    finally:
        other.close()
    [result] = mailboxes_poll()
    assert result.stored == 1
