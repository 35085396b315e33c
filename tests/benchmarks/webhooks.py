"""Webhook throughput: emit N events, then deliver them, signed, to a local receiver that verifies each one.

    python tests/benchmarks/webhooks.py [--events 2000] [--per-issue 4] [--workers 1]
    DATABASE_URL=postgres://… python tests/benchmarks/webhooks.py --workers 2

Runs against a scratch database (SQLite file, or `<name>_bench` on PostgreSQL) that it creates and drops, and
prints the emission rate and the delivery rate in deliveries per second. Events come `--per-issue` to an issue,
so delivery also pays for keeping them in order per issue and endpoint.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--per-issue", type=int, default=4, help="events per issue (delivered in order)")
    parser.add_argument("--chunk", type=int, default=500, help="events per emit call (one transaction each)")
    parser.add_argument("--workers", type=int, default=1, help="delivery workers at once (threads)")
    args = parser.parse_args()

    import django
    from django.conf import settings

    scratch = tempfile.mkdtemp(prefix="inloop-bench-")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        settings.DATABASES["default"]["NAME"] = os.path.join(scratch, "bench.sqlite3")
    else:
        settings.DATABASES["default"]["NAME"] += "_bench"
    django.setup()

    from django.db import connection, connections, transaction
    from django.test.utils import setup_databases, teardown_databases
    from django.utils import timezone

    from issues.models import Customer, Issue, Team
    from tests.mailserver import free_port
    from webhooks import emit, payloads
    from webhooks.delivery import deliver_due
    from webhooks.models import Delivery, Endpoint

    settings.OUTBOX_NUDGE_WORKER = False
    databases = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    port = free_port()
    try:
        team = Team.objects.create(name="Bench")
        customer = Customer.objects.create(name="Bench Co", slug="bench", code="BENCH", team=team)
        endpoint = Endpoint.objects.create(name="bench", url=f"http://127.0.0.1:{port}/bench",
                                           events=["issue.updated"])
        # The receiver runs in its own process, as a real one would, so it does not share our GIL.
        receiver = subprocess.Popen([sys.executable, "-m", "tests.webhooks.receiver", str(port), "bench",
                                     endpoint.secret], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True)
        assert receiver.stdout.readline().strip() == "ready"
        now = timezone.now()
        issues = Issue.objects.bulk_create(
            [Issue(customer=customer, title=f"Export {n} times out", created_at=now, updated_at=now,
                   ack_started_at=now) for n in range(max(args.events // args.per_issue, 1))])
        for issue in issues:
            issue.customer = customer
        body = "We found the cause and deployed a fix.\n" * 3
        events = [emit.Event("issue.updated", f"bench-{n}", now,
                             {"issue": payloads.issue_data(issues[n % len(issues)]),
                              "changes": [{"kind": "public_update", "body": body}]},
                             team.pk, issues[n % len(issues)].pk)
                  for n in range(args.events)]

        started = time.perf_counter()
        for first in range(0, len(events), args.chunk):
            with transaction.atomic():
                emit.emit(events[first:first + args.chunk])
        emit_seconds = time.perf_counter() - started

        delivered = []

        def worker() -> None:
            try:
                delivered.append(deliver_due(now=timezone.now()))
            finally:
                connections.close_all()

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        deliver_seconds = time.perf_counter() - started
        left = Delivery.objects.exclude(status=Delivery.Status.DELIVERED).count()
    finally:
        receiver.terminate()
        received, distinct, rejected = receiver.communicate(timeout=30)[0].split()
        teardown_databases(databases, verbosity=0)

    total = sum(delivered)
    print(f"database   {connection.vendor}")
    print(f"events     {args.events} ({args.per_issue} per issue, {len(issues)} issues), {args.workers} worker(s)")
    print(f"emit       {args.events / emit_seconds:8.0f} events/s  ({emit_seconds:.2f} s)")
    print(f"deliver    {total / deliver_seconds:8.0f} deliveries/s  ({deliver_seconds:.2f} s, {received} received "
          f"and verified by the receiver, {distinct} distinct webhook-ids, {rejected} rejected, {left} not delivered)")


if __name__ == "__main__":
    main()
