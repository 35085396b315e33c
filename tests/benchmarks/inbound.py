"""Inbound email throughput: how many messages a second the pipe command and IMAP polling take in.

    python tests/benchmarks/inbound.py [--messages 1000] [--piped 100]
    DATABASE_URL=postgres://… python tests/benchmarks/inbound.py

Runs against a scratch database (SQLite file, or `<name>_bench` on PostgreSQL) that it creates and drops.
The messages are a realistic mix: 70 % customers answering our emails (the reply token in In-Reply-To, the
original quoted below), 20 % known contacts writing afresh (each opens an issue and queues a receipt), 10 %
strangers (unmatched). It prints three rates, each storing and acting on every message:
- the pipeline in one process (what each door costs once running);
- `manage.py receive_email`, one process per message as a mail server's pipe runs it (`--piped` of them);
- IMAP polling: the messages appended to a private dovecot, then `fetch_email`'s poll until empty (needs
  Debian's dovecot-imapd and root; skipped otherwise).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")


def mix(count: int, rows: list, contacts: list, offset: int) -> list[bytes]:
    """`count` messages: answers to our emails, new issues from contacts, strangers."""
    from tests.inbound.mail import answer_to, email_from

    messages = []
    for n in range(offset, offset + count):
        if n % 10 < 7:
            row = rows[n % len(rows)]
            raw = answer_to(row, f"Answer number {n}: the export works again, thanks.")
            messages.append(raw.replace(b"Message-ID: <", f"Message-ID: <bench-{n}.".encode(), 1))
        elif n % 10 < 9:
            contact = contacts[n % len(contacts)]
            messages.append(email_from(contact.email, subject=f"New problem {n}", body=f"Problem {n} since today.",
                                       message_id=f"<new-{n}@bench.example>"))
        else:
            messages.append(email_from(f"stranger{n}@elsewhere.example", subject=f"Hello {n}",
                                       message_id=f"<stranger-{n}@bench.example>"))
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--piped", type=int, default=100, help="messages sent through the pipe command")
    args = parser.parse_args()

    import django
    from django.conf import settings

    scratch = tempfile.mkdtemp(prefix="inloop-bench-")
    sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    if sqlite:
        # A file, not the in-memory test database: the pipe command's own processes must see it.
        settings.DATABASES["default"]["NAME"] = os.path.join(scratch, "bench.sqlite3")
        settings.DATABASES["default"]["TEST"] = {"NAME": os.path.join(scratch, "bench-test.sqlite3")}
    else:
        settings.DATABASES["default"]["NAME"] += "_bench"
    django.setup()

    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases
    from django.utils import timezone

    from inbound.imap import fetch_new
    from inbound.models import InboundMessage, Source
    from inbound.pipeline import receive
    from issues.models import Contact, Customer, Issue, Team
    from notifications.models import OutboundEmail
    from notifications.outbox import Email, enqueue

    settings.OUTBOX_NUDGE_WORKER = False
    settings.INBOUND_NEW_ISSUES_PER_HOUR = 1000
    databases = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    db = connection.settings_dict  # the database setup_databases made
    url = (f"sqlite:///{db['NAME']}" if sqlite else
           f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    try:
        now = timezone.now()
        team = Team.objects.create(name="Bench")
        customer = Customer.objects.create(name="Bench Co", slug="bench", code="BENCH", team=team)
        contacts = Contact.objects.bulk_create([Contact(customer=customer, name=f"Reader {n}",
                                                        email=f"reader{n}@bench.example.com") for n in range(100)])
        issues = Issue.objects.bulk_create([
            Issue(customer=customer, title=f"Export {n} times out", created_at=now, updated_at=now,
                  ack_started_at=now, acknowledged_at=now, update_started_at=now, status="waiting_on_customer",
                  update_paused_at=now) for n in range(100)])
        enqueue([Email(recipient=contacts[n].email, recipient_name=contacts[n].name, language="en",
                       kind="public_update", dedupe_key=f"bench:{n}", issue_id=issues[n].pk, contact_id=contacts[n].pk,
                       context={}) for n in range(100)], now=now)
        OutboundEmail.objects.update(subject="[BENCH] Update: Export times out", status="sent",
                                     body_text="Hello,\n\nCould you send us the file that fails?\n")
        rows = list(OutboundEmail.objects.order_by("pk"))

        messages = mix(args.messages, rows, contacts, 0)
        started = time.perf_counter()
        for raw in messages:
            receive(raw, source=Source.PIPE)
        in_process = time.perf_counter() - started

        piped = mix(args.piped, rows, contacts, args.messages)
        environment = {**os.environ, "DATABASE_URL": url, "INBOUND_NEW_ISSUES_PER_HOUR": "1000"}
        started = time.perf_counter()
        failures = 0
        for raw in piped:
            result = subprocess.run([sys.executable, "manage.py", "receive_email"], input=raw, cwd=ROOT,
                                    env=environment, capture_output=True, timeout=120)
            failures += result.returncode != 0
        pipe_seconds = time.perf_counter() - started

        imap_line = imap(mix(args.messages, rows, contacts, args.messages + args.piped), fetch_new, receive)
        outcomes = dict(InboundMessage.objects.values_list("outcome").annotate(n=django.db.models.Count("pk")))
    finally:
        teardown_databases(databases, verbosity=0)

    print(f"database   {connection.vendor}")
    print(f"pipeline   {args.messages / in_process:8.1f} messages/s  ({args.messages} in {in_process:.2f} s, "
          "one process)")
    print(f"pipe       {args.piped / pipe_seconds:8.1f} messages/s  ({args.piped} in {pipe_seconds:.2f} s, one "
          f"process per message; {failures} non-zero exits)")
    print(imap_line)
    print(f"outcomes   {outcomes}")


def imap(messages: list[bytes], fetch_new, receive) -> str:
    from tests.imapserver import DOVECOT, ImapServer

    if not DOVECOT.exists() or os.geteuid() != 0:
        return "imap       skipped: needs Debian's dovecot-imapd and root"
    server = ImapServer()
    server.start()
    try:
        server.append_many(messages)
        started, stored, polls = time.perf_counter(), 0, 0
        while (result := fetch_new(url=server.url, store=lambda raw: receive(raw, source="imap"))).fetched:
            stored += result.stored
            polls += 1
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    return (f"imap       {stored / seconds:8.1f} messages/s  ({stored} in {seconds:.2f} s over {polls} polls, "
            "stored and acted on before each is flagged)")


if __name__ == "__main__":
    main()
