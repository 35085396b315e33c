"""Outbox throughput: enqueue N emails, then deliver them to a local aiosmtpd server.

    python tests/benchmarks/outbox.py [--emails 10000]
    DATABASE_URL=postgres://… python tests/benchmarks/outbox.py

Runs against a scratch database (SQLite file, or `<name>_bench` on PostgreSQL) that it creates and
drops, and prints the enqueue rate and the delivery rate in emails per second.
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
# Production settings: DEBUG off (cached templates), a throwaway key for this run only.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500, help="emails per enqueue call (one transaction each)")
    args = parser.parse_args()

    import django
    from django.conf import settings

    scratch = tempfile.mkdtemp(prefix="inloop-bench-")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        settings.DATABASES["default"]["NAME"] = os.path.join(scratch, "bench.sqlite3")
    else:
        settings.DATABASES["default"]["NAME"] += "_bench"
    django.setup()

    from django.db import connection, transaction
    from django.test.utils import setup_databases, teardown_databases

    from issues.models import Contact, Customer, Issue, Team
    from notifications.delivery import deliver_due
    from notifications.outbox import Email, enqueue
    from tests.mailserver import free_port

    settings.OUTBOX_NUDGE_WORKER = False
    databases = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    # The SMTP server runs in its own process, as a real one would, so it does not share our GIL.
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tests.mailserver", str(port)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout.readline().strip() == "ready"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        # Realistic rows: resolution notices about real issues, rendered from the templates at delivery.
        team = Team.objects.create(name="Bench")
        customer = Customer.objects.create(name="Bench Co", slug="bench", code="BENCH", team=team)
        contact = Contact.objects.create(customer=customer, name="Reader", email="reader@bench.example.com")
        from django.utils import timezone
        now = timezone.now()
        issues = Issue.objects.bulk_create(
            [Issue(customer=customer, title=f"Export {n} times out", created_at=now, updated_at=now,
                   ack_started_at=now, status="resolved", resolved_at=now) for n in range(100)])
        body = "We found the cause and deployed a fix.\n" * 5
        started = time.perf_counter()
        for first in range(0, args.emails, args.chunk):
            with transaction.atomic():
                enqueue([
                    Email(recipient=f"reader{n}@customer.example.com", recipient_name=f"Reader {n}",
                          language="ko" if n % 2 else "en", kind="resolved", dedupe_key=f"bench:{n}",
                          issue_id=issues[n % 100].pk, contact_id=contact.pk, context={"body": body})
                    for n in range(first, min(first + args.chunk, args.emails))
                ])
        enqueue_seconds = time.perf_counter() - started

        started = time.perf_counter()
        delivered = deliver_due()
        deliver_seconds = time.perf_counter() - started
    finally:
        server.terminate()
        received, distinct = server.communicate(timeout=30)[0].split()
        teardown_databases(databases, verbosity=0)

    print(f"database   {connection.vendor}")
    print(f"emails     {args.emails}")
    print(f"enqueue    {args.emails / enqueue_seconds:8.0f} emails/s  ({enqueue_seconds:.2f} s)")
    print(f"deliver    {delivered / deliver_seconds:8.0f} emails/s  ({deliver_seconds:.2f} s, "
          f"{received} received by the SMTP server, {distinct} distinct Message-IDs)")


if __name__ == "__main__":
    main()
