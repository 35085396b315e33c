"""Compliance at 100,000 issues with a year of timeline on PostgreSQL: the dashboard's compliance section from
the daily roll-ups (p50/p95 over N looks), beside the recount from the timeline it replaced (measured in the
same run), and whether both say the same.

    psql -h 127.0.0.1 -U inloop -d postgres -c 'create database inloop_compliance'
    DATABASE_URL=postgres://inloop@127.0.0.1:5432/inloop_compliance .venv/bin/python tests/benchmarks/compliance.py

Seeds once (bulk inserts): issues opened over the last 365 days in four teams, half of them in the measured
team (whose days are Seoul's), each with the timeline the services write (opened; acknowledged: the
acknowledge clock stops, the update clock starts; public updates restart it, some wait on the customer;
resolved: it stops) and a breach, cleared when its cycle ended, wherever a cycle took longer than its window.
Then ``recount_compliance`` counts the roll-ups from that history (timed: what a deploy runs once). Not
collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ.setdefault("HTTPS", "false")  # the test client speaks plain HTTP
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues import sla
from issues.models import (
    Breach,
    BusinessCalendar,
    Clock,
    ComplianceDay,
    Customer,
    EventKind,
    Issue,
    IssueEvent,
    SlaPolicy,
    Status,
    Team,
)
from issues.reporting import rollups
from issues.reporting.compliance import (
    WINDOWS,
    compliance,
    day_start,
    first_day,
    medians_to_acknowledge,
    recount,
)
from issues.reporting.counts import Moment
from tests.factories import UserFactory

TEAMS, CUSTOMERS_PER_TEAM, DAYS = 4, 10, 365
SEVERITIES = ["red"] * 1 + ["orange"] * 3 + ["blue"] * 8 + ["green"] * 4
# Calendar time throughout (the seed does not model working hours): the windows of the default policies.
ACKNOWLEDGE_WITHIN = {"red": timedelta(hours=1), "orange": timedelta(hours=4), "blue": timedelta(days=1),
                      "green": timedelta(days=1)}
UPDATE_EVERY = {"red": timedelta(days=1), "orange": timedelta(days=2), "blue": timedelta(days=7),
                "green": timedelta(days=7)}
BATCH = 20_000
# The medians read the issues acknowledged in the window: with this index, only the team's, from the index alone.
PROPOSED_INDEXES = {
    "bench_issue_acknowledged": "ON issues_issue (customer_id, acknowledged_at) INCLUDE (ack_started_at, severity)",
}


class History:
    """The rows one issue's story writes: the issue, its events and its breaches."""

    def __init__(self, rng: random.Random, now) -> None:
        self.rng, self.now = rng, now
        self.events: list[IssueEvent] = []
        self.breaches: list[Breach] = []

    def event(self, issue: Issue, kind: str, at, clock: str = "", public: bool = False) -> None:
        self.events.append(IssueEvent(issue_id=issue.pk, kind=kind, at=at, new_value=clock, public=public))

    def late(self, issue: Issue, clock: str, started, due, ended) -> None:
        """A cycle that ran past its window: breached a few minutes after (the scan's pace), cleared when it
        ended (None: it still runs)."""
        breached = due + timedelta(minutes=self.rng.randint(1, 5))
        if breached <= self.now and (ended is None or breached < ended):
            self.breaches.append(Breach(issue_id=issue.pk, clock=clock, severity=issue.severity,
                                        cycle_started_at=started, due_at=due, breached_at=breached, cleared_at=ended))

    def tell(self, issue: Issue) -> None:
        self.event(issue, EventKind.CREATED, issue.created_at, public=True)
        self.event(issue, EventKind.CLOCK_STARTED, issue.created_at, Clock.ACKNOWLEDGE)
        acked, resolved = issue.acknowledged_at, issue.resolved_at
        self.late(issue, Clock.ACKNOWLEDGE, issue.created_at, issue.created_at + ACKNOWLEDGE_WITHIN[issue.severity],
                  acked or resolved)
        if acked is None:
            if resolved is not None:
                self.event(issue, EventKind.RESOLVED, resolved, public=True)
                self.event(issue, EventKind.CLOCK_STOPPED, resolved, Clock.ACKNOWLEDGE)
            return
        self.event(issue, EventKind.ACKNOWLEDGED, acked, public=True)
        self.event(issue, EventKind.CLOCK_STOPPED, acked, Clock.ACKNOWLEDGE)
        self.event(issue, EventKind.CLOCK_STARTED, acked, Clock.UPDATE)
        cycle, end = acked, resolved or self.now
        for update in sorted(acked + (end - acked) * self.rng.random() for _ in range(self.rng.randint(0, 4))):
            self.late(issue, Clock.UPDATE, cycle, cycle + UPDATE_EVERY[issue.severity], update)
            self.event(issue, EventKind.PUBLIC_UPDATE, update, public=True)
            waits = self.rng.random() < 0.1  # "send and wait": the new cycle starts paused
            self.event(issue, EventKind.CLOCK_PAUSED if waits else EventKind.CLOCK_STARTED, update, Clock.UPDATE)
            cycle = update
        self.late(issue, Clock.UPDATE, cycle, cycle + UPDATE_EVERY[issue.severity], resolved)
        if resolved is not None:
            self.event(issue, EventKind.RESOLVED, resolved, public=True)
            self.event(issue, EventKind.CLOCK_STOPPED, resolved, Clock.UPDATE)


def make(rng: random.Random, n: int, customer: Customer, rules: dict, now) -> Issue:
    created = now - timedelta(minutes=rng.randint(5, 60 * 24 * DAYS))
    severity = rng.choice(SEVERITIES)
    took = timedelta(minutes=rng.lognormvariate(4.5, 1.2))  # a median of 90 minutes, a long tail
    acked = created + took if rng.random() < 0.97 and created + took < now else None
    life = timedelta(days=rng.expovariate(1 / 6))
    resolved = created + took + life if rng.random() < 0.85 and created + took + life < now else None
    status = Status.RESOLVED if resolved else Status.IN_PROGRESS if acked else Status.NEW
    issue = Issue(customer=customer, title=f"Year issue #{n}", severity=severity, status=status,
                  owner=customer.account_manager, created_at=created, updated_at=resolved or acked or created,
                  ack_started_at=created, acknowledged_at=acked, customer_last_heard_at=acked,
                  update_started_at=acked, last_public_update_at=acked, resolved_at=resolved)
    issue.apply_clocks(sla.compute(issue.clock_facts(), rules[severity], sla.AROUND_THE_CLOCK))
    return issue


def seed(total: int) -> None:
    rng = random.Random(2027)
    now = timezone.now()
    rules = {p.severity: p.rules(has_business_calendar=False) for p in SlaPolicy.objects.filter(tier=None)}
    seoul = BusinessCalendar.objects.get_or_create(name="Bench Seoul office", defaults={"time_zone": "Asia/Seoul"})[0]
    customers = []
    for t in range(TEAMS):
        lead = UserFactory(username=f"year-lead-{t}")
        team = Team.objects.create(name=f"Year team {t}", lead=lead, calendar=seoul if t == 0 else None)
        team.members.add(lead)
        customers.append([Customer.objects.create(name=f"Year customer {t}-{c}", code=f"Y{t}C{c}", slug=f"y{t}c{c}",
                                                  team=team, account_manager=lead)
                          for c in range(CUSTOMERS_PER_TEAM)])
    for first in range(0, total, BATCH):
        issues = Issue.objects.bulk_create([
            make(rng, n, rng.choice(customers[0] if n % 2 == 0 else rng.choice(customers[1:])), rules, now)
            for n in range(first, min(first + BATCH, total))])
        history = History(rng, now)
        for issue in issues:
            history.tell(issue)
        IssueEvent.objects.bulk_create(history.events, batch_size=5000)
        Breach.objects.bulk_create(history.breaches, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def timed(call, runs: int) -> tuple[float, float, int]:
    """p50 and p95 in ms over `runs` calls (after one warm-up), and the queries of the last."""
    call()
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call()
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(int(len(timings) * 0.95) - 1, 0)], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--looks", type=int, default=100, help="looks at the roll-ups to time")
    parser.add_argument("--recounts", type=int, default=10, help="recounts from the timeline to time")
    parser.add_argument("--proposed-index", action="store_true",
                        help="measure the roll-ups again with the index the medians ask for (dropped afterwards)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a dedicated PostgreSQL database, e.g. .../inloop_compliance")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    if not Issue.objects.exists():
        started = time.perf_counter()
        seed(args.issues)
        print(f"seeded {Issue.objects.count():,} issues in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    teams = rollups.recount_all()
    print(f"recount_compliance: {teams} teams counted from the timeline in {time.perf_counter() - started:.1f} s "
          f"({ComplianceDay.objects.count():,} day rows)")
    team = Team.objects.select_related("calendar").get(name="Year team 0")
    moment = Moment.of(team, timezone.now())
    since = day_start(first_day(moment, max(WINDOWS)), moment)
    print(f"{Issue.objects.count():,} issues, {Issue.objects.filter(customer__team=team).count():,} in the measured "
          f"team ({moment.zone.key}); {IssueEvent.objects.count():,} timeline events, "
          f"{IssueEvent.objects.filter(issue__customer__team=team, at__gte=since).count():,} of them the team's in "
          f"the last 90 days; {Breach.objects.count():,} breaches")

    agree = compliance(team, moment) == recount(team, moment)
    print(f"roll-ups and timeline agree: {'yes' if agree else 'NO'}")
    lead = Client()
    lead.force_login(team.lead)
    print(f"{'':<44}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    rows = {
        "compliance from the roll-ups": (lambda: compliance(team, Moment.of(team, timezone.now())), args.looks),
        "  of which the medians (exact)": (lambda: medians_to_acknowledge(
            team, [day_start(first_day(moment, days), moment) for days in WINDOWS], timezone.now()), args.looks),
        "compliance recounted from the timeline (old)": (lambda: recount(team, Moment.of(team, timezone.now())),
                                                         args.recounts),
        "dashboard page, live compliance": (lambda: lead.get("/dashboard/"), args.recounts * 3),
    }
    results = {}
    for name, (call, runs) in rows.items():
        results[name] = timed(call, runs)
        p50, p95, queries = results[name]
        print(f"{name:<44}{p50:>9.1f}{p95:>9.1f}{queries:>9}")
    new, old = results["compliance from the roll-ups"][1], results["compliance recounted from the timeline (old)"][1]
    print(f"p95: {new:.0f} ms from the roll-ups (target 150 ms), {old:.0f} ms recounted: {old / new:.0f}x")
    if args.proposed_index:
        with connection.cursor() as cursor:
            for name, definition in PROPOSED_INDEXES.items():
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")
            cursor.execute("VACUUM ANALYZE issues_issue")
        try:
            print("with the proposed index:", ", ".join(PROPOSED_INDEXES.values()))
            for name in ("compliance from the roll-ups", "  of which the medians (exact)"):
                p50, p95, queries = timed(rows[name][0], args.looks)
                print(f"{name:<44}{p50:>9.1f}{p95:>9.1f}{queries:>9}")
        finally:
            with connection.cursor() as cursor:
                for name in PROPOSED_INDEXES:
                    cursor.execute(f"DROP INDEX IF EXISTS {name}")


if __name__ == "__main__":
    main()
