"""Outbox throughput: enqueue N emails, then deliver them to a local aiosmtpd server.

    DEBUG=1 python tests/benchmarks/outbox.py [--emails 10000]
    DATABASE_URL=postgres://… DEBUG=1 python tests/benchmarks/outbox.py

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
os.environ.setdefault("DEBUG", "true")


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

    from notifications.delivery import deliver_due
    from notifications.outbox import Email, enqueue, new_message_id
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
        body = "We found the cause and a fix is on its way.\n" * 10
        started = time.perf_counter()
        for first in range(0, args.emails, args.chunk):
            with transaction.atomic():
                enqueue([
                    Email(recipient=f"reader{n}@customer.example.com", recipient_name=f"Reader {n}", language="en",
                          subject=f"[BENCH-{n}] Update", body_text=body, body_html=f"<p>{body}</p>",
                          kind="public_update", dedupe_key=f"bench:{n}", message_id=new_message_id())
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
