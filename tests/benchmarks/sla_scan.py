"""SLA scan cost at scale.

    python tests/benchmarks/sla_scan.py --issues 1000000                  # SQLite (a scratch file)
    DATABASE_URL=postgres://… python tests/benchmarks/sla_scan.py --issues 1000000

Creates N open issues in a scratch database (`<name>_bench` on PostgreSQL), then reports:
  (a) a scan when nothing is due;
  (b) a scan when 1 % of the issues are newly overdue on their update clock: flag, record the breach
      and its event, queue the notices to owner and lead and the automatic status emails;
  (c) the SQL queries each one runs;
  (d) the floor: the same flagging as one raw SQL UPDATE on the same table, rolled back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
os.environ["OUTBOX_NUDGE_WORKER"] = "false"

OPEN = ("new", "acknowledged", "in_progress", "waiting_on_customer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of (b) and (d); (a) runs 10 times as many")
    args = parser.parse_args()

    import django
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        settings.DATABASES["default"]["NAME"] = os.path.join(tempfile.mkdtemp(prefix="inloop-bench-"), "bench.db")
    else:
        settings.DATABASES["default"]["NAME"] += "_bench"
    django.setup()

    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    databases = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    try:
        now = create_issues(args.issues)
        report(args, now)
    finally:
        connection.close()
        teardown_databases(databases, verbosity=0)


def create_issues(count: int):
    """N acknowledged, open issues whose clocks are all comfortably in the future, spread over 50
    customers of two teams; inserted by the database itself so that a million take seconds."""
    from django.db import connection
    from django.utils import timezone

    from issues.models import Contact, Customer, Team
    from tests.factories import UserFactory

    now = timezone.now().replace(microsecond=0)
    lead, owner = UserFactory(username="bench-lead"), UserFactory(username="bench-owner")
    customers = []
    for number in range(50):
        team, _ = Team.objects.get_or_create(name=f"Bench team {number % 2}", defaults={"lead": lead})
        team.members.add(owner)
        customer = Customer.objects.create(name=f"Bench customer {number}", slug=f"bench-{number}",
                                           code=f"B{number:03d}", team=team, account_manager=owner)
        Contact.objects.create(customer=customer, name=f"Reader {number}", email=f"reader{number}@bench.example.com")
        customers.append(customer.pk)
    started = time.perf_counter()
    ids = ",".join(str(pk) for pk in customers)
    insert = f"""
        INSERT INTO issues_issue (title, description, severity, status, customer_id, owner_id, created_at,
            updated_at, ack_started_at, acknowledged_at, update_started_at, update_paused_for, auto_emails_sent,
            update_due_at, update_at_risk_at, auto_email_due_at)
        SELECT 'Bench issue ' || n, '', 'red', 'in_progress',
            (ARRAY[{ids}])[1 + n %% 50], {owner.pk}, %(start)s, %(start)s, %(start)s, %(start)s, %(start)s, %(zero)s, 0,
            %(due)s, %(risk)s, %(due)s
        FROM generate_series(1, %(count)s) AS n"""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(insert, {"start": now, "due": now + timedelta(days=1), "risk": now + timedelta(hours=18),
                                    "count": count, "zero": timedelta(0)})
        else:
            sqlite_insert = (insert.replace(f"(ARRAY[{ids}])[1 + n %% 50]", f"{customers[0]} + n % 50")
                             .replace("%%", "%").replace("FROM generate_series(1, %(count)s) AS n",
                                      "FROM (WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
                                      "WHERE n < %(count)s) SELECT n FROM s)"))
            stamp = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
            cursor.execute(sqlite_insert.replace("%(start)s", f"'{stamp(now)}'")
                           .replace("%(due)s", f"'{stamp(now + timedelta(days=1))}'")
                           .replace("%(risk)s", f"'{stamp(now + timedelta(hours=18))}'")
                           .replace("%(count)s", str(count)).replace("%(zero)s", "0"))
    settle()
    print(f"created {count} open issues in {time.perf_counter() - started:.1f} s")
    return now


def make_one_percent_overdue(now):
    """1 % of the issues reach their update due time (they were warned already, as on a normal day);
    returns the moment just after, when the scan finds them newly overdue."""
    from django.db.models import F

    from issues.models import Issue

    Issue.objects.alias(slot=F("id") % 100).filter(slot=0).update(
        update_warned_at=now + timedelta(hours=18), update_breached_at=None, auto_emails_sent=0,
        last_auto_email_at=None, auto_email_due_at=now + timedelta(days=1))
    Issue.objects.alias(slot=F("id") % 100).exclude(slot=0).update(  # the other 99 %: due another day
        update_warned_at=now + timedelta(hours=18), update_due_at=now + timedelta(days=2),
        auto_email_due_at=now + timedelta(days=2))
    settle()
    return now + timedelta(days=1, minutes=1)


def settle() -> None:
    """Clean up after the mass updates above, as autovacuum would long before the next minute's scan:
    otherwise every range scan would wade through a million dead index entries."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE issues_issue" if connection.vendor == "postgresql" else "ANALYZE")


def forget_scan_results() -> None:
    from issues.models import Breach, IssueEvent
    from notifications.models import OutboundEmail

    Breach.objects.all().delete()
    IssueEvent.objects.all().delete()
    OutboundEmail.objects.all().delete()


def timed(work) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        work()
        elapsed = time.perf_counter() - started
    return elapsed * 1000, len(queries)


def floor_update(at) -> None:
    """The same flagging the breach step does, as one statement, rolled back afterwards."""
    from django.db import connection, transaction

    placeholders = ", ".join(["%s"] * len(OPEN))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE issues_issue SET update_breached_at = %s WHERE status IN ({placeholders}) "
            "AND update_breached_at IS NULL AND update_due_at <= %s", [at, *OPEN, at])
        transaction.set_rollback(True)


def report(args, now) -> None:
    from django.db import connection

    from issues.models import Breach
    from issues.scan import scan_sla
    from notifications.models import OutboundEmail

    quiet = [timed(lambda: scan_sla(now=now + timedelta(hours=1))) for _ in range(args.repeat * 10)]
    floors, busy, outcome = [], [], None
    for _ in range(args.repeat):
        at = make_one_percent_overdue(now)
        floors.append(timed(lambda: floor_update(at)))
        busy.append(timed(lambda: scan_sla(now=at)))
        outcome = (Breach.objects.count(), OutboundEmail.objects.count())
        forget_scan_results()
    median = lambda runs: statistics.median(ms for ms, _queries in runs)  # noqa: E731
    print(f"database                     {connection.vendor}")
    print(f"open issues                  {args.issues}")
    if os.environ.get("SHOW_QUERIES"):
        from collections import Counter

        from django.test.utils import CaptureQueriesContext

        at = make_one_percent_overdue(now)
        with CaptureQueriesContext(connection) as queries:
            scan_sla(now=at)
        spent = Counter()
        for query in queries.captured_queries:
            spent[query["sql"][:90]] += float(query["time"])
        for sql, seconds in spent.most_common(10):
            print(f"{seconds:7.2f} s  {sql}")
    print(f"(a) scan, nothing due        {median(quiet):8.1f} ms   {quiet[0][1]} queries")
    print(f"(b) scan, 1 % newly overdue  {median(busy):8.1f} ms   {busy[0][1]} queries "
          f"({outcome[0]} breaches, {outcome[1]} emails queued)")
    print(f"(d) floor: one raw UPDATE    {median(floors):8.1f} ms   {floors[0][1]} query")
    print(f"(b) / (d)                    {median(busy) / median(floors):8.1f} x")


if __name__ == "__main__":
    main()
