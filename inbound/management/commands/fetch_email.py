"""Poll the IMAP mailbox (INBOUND_IMAP_URL) once, now; beat runs the same every INBOUND_POLL_SECONDS."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inbound.tasks import poll_mailbox


class Command(BaseCommand):
    help = "Fetch new email from the IMAP mailbox named by INBOUND_IMAP_URL and act on it."

    def handle(self, *args, **options) -> None:
        if not settings.INBOUND_IMAP_URL:
            raise CommandError("Set INBOUND_IMAP_URL, e.g. imaps://support%40example.com:secret@imap.example.com/INBOX")
        result = poll_mailbox()
        self.stdout.write(f"fetched {result.fetched}, stored {result.stored}, failed {result.failed}")
