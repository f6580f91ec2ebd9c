"""``manage.py mailboxes_poll [--mailbox ID ...]``: read new messages from the IMAP mailboxes now."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from channels.services.imap import mailboxes_poll


class Command(BaseCommand):
    help = "Fetch new messages from every active IMAP mailbox (what the beat job does every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", type=int, action="append", dest="mailbox_ids",
                            help="only this mailbox id (repeatable)")  # fmt: skip

    def handle(self, *args, **options):
        results = mailboxes_poll(mailbox_ids=options["mailbox_ids"])
        if not results:
            self.stdout.write("No active mailbox. Add one in the admin (Channels > Mailboxes).")
        failed = False
        for result in results:
            line = (f"{result.mailbox}: {result.fetched} fetched, {result.stored} stored, "
                    f"{result.duplicates} already stored, {len(result.rejected)} rejected")  # fmt: skip
            if result.skipped:
                self.stdout.write(f"{result.mailbox}: skipped, another run is reading it")
            elif result.error:
                failed = True
                self.stderr.write(f"{result.mailbox}: ERROR {result.error}")
            else:
                self.stdout.write(line)
            for reason in result.rejected:
                self.stdout.write(f"  rejected {reason}")
        if failed:
            raise SystemExit(1)
