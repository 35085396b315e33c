"""Read one email from standard input, as a mail server's pipe delivers it (e.g. Postfix's
``inloop: "|/srv/inloop/.venv/bin/python /srv/inloop/manage.py receive_email"``).

Exit 0 when the message was stored (or deliberately ignored); 75 (EX_TEMPFAIL) when it could not be
stored, so the mail server keeps it and tries again later.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from inbound.models import Source
from inbound.pipeline import receive

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store and act on one RFC 5322 email read from standard input."

    def handle(self, *args, **options) -> None:
        raw = sys.stdin.buffer.read()
        try:
            message = receive(raw, source=Source.PIPE)
        except Exception as error:  # noqa: BLE001 - anything that kept it from being stored: let the MTA retry
            self.stderr.write(f"inloop: could not store the message, try again later: {type(error).__name__}: {error}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"{message.outcome} {message.reason}".strip())
