"""Server time of the pages at 100,000 issues on PostgreSQL: p50/p95 over N requests via the test client.

    psql -h 127.0.0.1 -U postgres -c 'create database inloop_bench'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inloop_bench .venv/bin/python tests/benchmarks/pages.py

Seeds once (bulk_create, clock columns computed by issues.sla exactly as the services would), then measures.
The history behind the dashboard's compliance section is seeded too: the timeline events the services
write when clocks stop and restart (about nine per issue) and 10,000 breaches over the last 90 days. The
dashboard and its exports are measured as the lead of the benchmark user's team.
--explain prints the plans of the inbox's two queries. --proposed-indexes measures again with the
indexes the UI asks for (created here by raw SQL, dropped afterwards; a migration would add them for
real). Not collected by pytest (no test_ prefix).
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

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from issues import sla  # noqa: E402
from issues.filters import InboxFilterForm  # noqa: E402
from issues.models import (  # noqa: E402
    Breach,
    Clock,
    Contact,
    Customer,
    EventKind,
    Issue,
    IssueEvent,
    SlaPolicy,
    Status,
    Team,
)
from issues.selectors import inbox, visible_customers  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

TEAMS, CUSTOMERS_PER_TEAM = 4, 10
BREACHES = 10_000
SEVERITIES = ["red"] * 1 + ["orange"] * 3 + ["blue"] * 8 + ["green"] * 4
# A quarter of all issues open; the benchmark user's team holds half of all issues.
STATUSES = [Status.RESOLVED] * 10 + [Status.CLOSED] * 5 + [Status.NEW] * 2 + [Status.ACKNOWLEDGED] * 1 + \
           [Status.IN_PROGRESS] * 1 + [Status.WAITING_ON_CUSTOMER] * 1
# The customers page reads "when did this customer last hear from us" once per customer.
PROPOSED_INDEXES = {
    "bench_issue_customer_last_heard": "ON issues_issue (customer_id, customer_last_heard_at)",
}
WORDS = "invoice export login sso tracking eta api bulk upload password reset dashboard chart webhook report".split()


def seed(total: int) -> None:
    rng = random.Random(2026)
    now = timezone.now()
    manager = UserFactory(username="bench-manager", first_name="Bench", last_name="Manager")
    rules = {p.severity: p.rules(has_business_calendar=False) for p in SlaPolicy.objects.all()}
    customers = []
    for t in range(TEAMS):
        team = Team.objects.create(name=f"Bench team {t}", lead=UserFactory(username=f"bench-lead-{t}"))
        if t == 0:
            team.members.add(manager)
        for c in range(CUSTOMERS_PER_TEAM):
            code = f"B{t}C{c}"
            customer = Customer.objects.create(name=f"Bench customer {t}-{c}", code=code, slug=code.lower(),
                                               team=team, account_manager=manager if t == 0 else team.lead)
            Contact.objects.create(customer=customer, name=f"Contact {code}", email=f"{code.lower()}@example.com")
            customers.append(customer)
    home, others = customers[:CUSTOMERS_PER_TEAM], customers[CUSTOMERS_PER_TEAM:]
    batch = []
    for n in range(total):
        customer = rng.choice(home) if n % 2 == 0 else rng.choice(others)
        batch.append(make(rng, n, customer, manager if customer in home else customer.team.lead, rules, now))
        if len(batch) == 5000:
            Issue.objects.bulk_create(batch)
            batch = []
    Issue.objects.bulk_create(batch)
    seed_history(rng, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def clock_events(issue: Issue, rng: random.Random, now) -> list[IssueEvent]:
    """What the services write on an issue's timeline: opened; acknowledged (the acknowledge clock stops,
    the update clock starts); public updates (each restarts the update clock); resolved (it stops)."""
    def event(kind: str, at, clock: str = "", public: bool = False) -> IssueEvent:
        return IssueEvent(issue_id=issue.pk, kind=kind, at=at, new_value=clock, public=public)

    events = [event(EventKind.CREATED, issue.created_at, public=True)]
    if issue.acknowledged_at is None:
        return events
    events += [event(EventKind.ACKNOWLEDGED, issue.acknowledged_at, public=True),
               event(EventKind.CLOCK_STOPPED, issue.acknowledged_at, Clock.ACKNOWLEDGE),
               event(EventKind.CLOCK_STARTED, issue.acknowledged_at, Clock.UPDATE)]
    end = issue.resolved_at or now
    for _ in range(rng.randint(0, 3)):
        at = issue.acknowledged_at + (end - issue.acknowledged_at) * rng.random()
        events += [event(EventKind.PUBLIC_UPDATE, at, public=True), event(EventKind.CLOCK_STARTED, at, Clock.UPDATE)]
    if issue.resolved_at is not None:
        events += [event(EventKind.RESOLVED, issue.resolved_at, public=True),
                   event(EventKind.CLOCK_STOPPED, issue.resolved_at, Clock.UPDATE)]
    return events


def seed_history(rng: random.Random, now) -> None:
    issues = Issue.objects.only("pk", "created_at", "acknowledged_at", "resolved_at", "severity").order_by("pk")
    events = []
    for issue in issues.iterator(chunk_size=5000):
        events += clock_events(issue, rng, now)
        if len(events) >= 20_000:
            IssueEvent.objects.bulk_create(events)
            events = []
    IssueEvent.objects.bulk_create(events)
    late = rng.sample(list(issues), BREACHES)
    Breach.objects.bulk_create([
        Breach(issue=issue, clock=Clock.ACKNOWLEDGE, severity=issue.severity, cycle_started_at=issue.created_at,
               due_at=issue.created_at + timedelta(hours=1), cleared_at=issue.acknowledged_at,
               breached_at=issue.created_at + timedelta(hours=1, minutes=1))
        for issue in late
    ], batch_size=5000)


def make(rng: random.Random, n: int, customer: Customer, owner, rules: dict, now) -> Issue:
    created = now - timedelta(minutes=rng.randint(5, 60 * 24 * 90))
    status = rng.choice(STATUSES)
    severity = rng.choice(SEVERITIES)
    acked = None if status == Status.NEW else created + timedelta(minutes=rng.randint(5, 600))
    issue = Issue(
        customer=customer, title=f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} problem #{n}",
        description=" ".join(rng.choices(WORDS, k=30)), severity=severity, status=status,
        owner=owner if rng.random() < 0.8 else None, created_at=created, updated_at=acked or created,
        ack_started_at=created, acknowledged_at=acked, customer_last_heard_at=acked,
        update_started_at=acked, last_public_update_at=acked,
        update_paused_at=now - timedelta(hours=2) if status == Status.WAITING_ON_CUSTOMER else None,
        resolved_at=now if status in {Status.RESOLVED, Status.CLOSED} else None,
    )
    issue.apply_clocks(sla.compute(issue.clock_facts(), rules[severity], sla.AROUND_THE_CLOCK))
    return issue


def measure(client: Client, url: str, requests: int, *, cold: bool = False) -> tuple[float, float, int]:
    """cold: empty the cache before each request (the dashboard recounts its compliance section)."""
    for _ in range(3):
        client.get(url)
    timings = []
    for _ in range(requests):
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            if response.streaming:  # a CSV export reads its rows while it streams
                b"".join(response.streaming_content)
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(queries)


def explain(user) -> None:
    query = InboxFilterForm({}, customers=visible_customers(user)).query()
    rows = inbox(user, query, now=timezone.now())
    print(rows[:25].explain(analyze=True))
    print(rows.order_by().explain(analyze=True))


def run(client: Client, pages: dict[str, str], requests: int, cold: tuple[str, ...] = ()) -> None:
    print(f"{'page':<34}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    for name, url in pages.items():
        p50, p95, queries = measure(client, url, requests, cold=name in cold)
        print(f"{name:<34}{p50:>9.1f}{p95:>9.1f}{queries:>9}")


def prepare(issues: int) -> None:
    """The benchmark database, migrated and seeded once (``search.py`` shares it)."""
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a dedicated PostgreSQL database, e.g. .../inloop_bench")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    if not Issue.objects.exists():
        started = time.perf_counter()
        seed(issues)
        print(f"seeded {Issue.objects.count():,} issues in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--proposed-indexes", action="store_true")
    args = parser.parse_args()
    prepare(args.issues)
    user = Team.objects.get(name="Bench team 0").members.get()
    client = Client()
    client.force_login(user)
    sample = Issue.objects.visible_to(user).open().order_by("pk").first()
    pages = {
        "inbox": "/",
        "inbox, page 40": "/?page=40",
        "inbox, red + breached": "/?severity=red&clock=breached",
        "inbox, search": "/?q=webhook",
        "inbox, htmx filter": "/?owner=me&status=new",
        "issue page": sample.get_absolute_url(),
        "customers": "/customers/",
        "customer page": f"/customers/{sample.customer.slug}/",
    }
    open_count = Issue.objects.visible_to(user).open().count()
    print(f"{Issue.objects.count():,} issues; {open_count:,} open in the benchmark user's teams; "
          f"{args.requests} requests each")
    run(client, pages, args.requests)
    lead = Team.objects.get(name="Bench team 0").lead
    lead_client = Client()
    lead_client.force_login(lead)
    today = timezone.localdate()
    team_breaches = Breach.objects.filter(issue__customer__team__lead=lead).count()
    print(f"{Breach.objects.count():,} breaches, {team_breaches:,} in the lead's team; "
          f"{IssueEvent.objects.count():,} timeline events")
    run(lead_client, {
        "dashboard": "/dashboard/",
        "dashboard, compliance recounted": "/dashboard/",
        "breaches CSV, 30 days": f"/dashboard/breaches.csv?first={today - timedelta(days=29)}&last={today}",
        "owners CSV": "/dashboard/owners.csv",
    }, args.requests, cold=("dashboard, compliance recounted",))
    if args.proposed_indexes:
        with connection.cursor() as cursor:
            for name, definition in PROPOSED_INDEXES.items():
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")
            cursor.execute("ANALYZE issues_issue")
        print("with the proposed indexes:", ", ".join(PROPOSED_INDEXES.values()))
        try:
            run(client, pages, args.requests)
        finally:
            with connection.cursor() as cursor:
                for name in PROPOSED_INDEXES:
                    cursor.execute(f"DROP INDEX IF EXISTS {name}")
    if args.explain:
        explain(user)


if __name__ == "__main__":
    main()
