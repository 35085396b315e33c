"""Load: the production shape (gunicorn, 2 workers, PostgreSQL) under a mix of real traffic.

    DATABASE_URL=postgres://… python tests/benchmarks/load.py [--seconds 120] [--users 8]

Creates 50,000 issues for 500 customers in a scratch database (`<name>_load`), starts gunicorn with two
workers, and lets account managers and leads read the inbox, open issues, post updates and look at the
dashboard for two minutes. Prints requests per second and p50/p95/p99 per endpoint, and the errors.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret-" + "x" * 30)
os.environ["OUTBOX_NUDGE_WORKER"] = "false"
PASSWORD = "a long benchmark passphrase"
TEAMS, CUSTOMERS_PER_TEAM, ISSUES = 10, 50, 50_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--users", type=int, default=8, help="people clicking at once")
    args = parser.parse_args()

    import django
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        sys.exit("The load benchmark measures the production shape: set DATABASE_URL to PostgreSQL.")
    settings.DATABASES["default"]["NAME"] += "_load"
    django.setup()

    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from tests.faults.services import WebApp, app_environment

    databases = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    try:
        people = populate()
        database = connection.settings_dict
        url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        connection.close()
        environment = app_environment(database_url=url, broker_url="filesystem://localhost/", email_port=None,
                                      queue="load")
        environment.update(OUTBOX_NUDGE_WORKER="false", INLOOP_VAR_DIR=str(ROOT / "var" / "load"))
        web = WebApp(environment, ROOT / "var" / "load-web.log")
        (ROOT / "var").mkdir(exist_ok=True)
        web.start()
        try:
            results = drive(web.url, people, seconds=args.seconds, users=args.users)
        finally:
            web.stop()
        report(results, args.seconds)
    finally:
        teardown_databases(databases, verbosity=0)


def populate() -> list[dict]:
    """Teams of a lead and five account managers, 50 customers each, and 50,000 issues in every state."""
    from django.db import connection
    from django.utils import timezone

    from issues.models import Contact, Customer, Team
    from tests.factories import UserFactory

    started = time.perf_counter()
    people, customers = [], []
    for number in range(TEAMS):
        lead = UserFactory(username=f"lead{number}", password=PASSWORD)
        members = [UserFactory(username=f"am{number}-{m}", password=PASSWORD) for m in range(5)]
        team = Team.objects.create(name=f"Load team {number}", lead=lead)
        team.members.add(*members)
        people += [{"username": lead.username, "lead_of": team.pk}] + [{"username": m.username} for m in members]
        for c in range(CUSTOMERS_PER_TEAM):
            customer = Customer.objects.create(name=f"Customer {number}-{c}", slug=f"c{number}-{c}",
                                               code=f"C{number:02d}{c:03d}", team=team, account_manager=members[c % 5])
            Contact.objects.create(customer=customer, name="Reader", email=f"reader{number}-{c}@load.example.com")
            customers.append((customer.pk, members[c % 5].pk))
    now = timezone.now()
    rows = []
    for n in range(ISSUES):
        customer, owner = customers[n % len(customers)]
        opened = now - timedelta(hours=random.uniform(1, 24 * 30))
        due = now + timedelta(hours=random.uniform(-48, 7 * 24))
        rows.append((f"Load issue {n}", ["red", "orange", "blue", "green"][n % 4], customer, owner, opened, due,
                     due - timedelta(hours=6)))
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO issues_issue (title, description, severity, status, customer_id, owner_id, created_at, "
            "updated_at, ack_started_at, acknowledged_at, update_started_at, update_paused_for, auto_emails_sent, "
            "update_due_at, update_at_risk_at, customer_last_heard_at) VALUES "
            "(%s, '', %s, 'in_progress', %s, %s, %s, %s, %s, %s, %s, interval '0', 0, %s, %s, %s)",
            [(title, severity, customer, owner, opened, opened, opened, opened, opened, due, risk, opened)
             for title, severity, customer, owner, opened, due, risk in rows])
        cursor.execute("VACUUM ANALYZE")
    print(f"created {TEAMS} teams, {len(customers)} customers, {ISSUES} issues in {time.perf_counter() - started:.0f} s")
    return people


def drive(base: str, people: list[dict], *, seconds: int, users: int) -> dict[str, list]:
    """Each simulated person loops: inbox, an issue, sometimes an update or the dashboard."""
    from tests.faults.services import Browser

    results: dict[str, list] = defaultdict(list)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def person(profile: dict, seed: int) -> None:
        chance = random.Random(seed)
        browser = Browser(base)
        browser.log_in(profile["username"], PASSWORD)
        while time.monotonic() < deadline:
            inbox = browser.request(chance.choice(["/", "/?clock=breached", "/?severity=red", "/?page=3"]))
            record("inbox", inbox)
            links = [int(part.split("/")[0]) for part in inbox.body.split('href="/issues/')[1:]
                     if part.split("/")[0].isdigit()]
            if links:
                issue = chance.choice(links)
                record("issue page", browser.request(f"/issues/{issue}/"))
                if chance.random() < 0.25:
                    record("post update", browser.request(f"/issues/{issue}/update/",
                                                          {"update-body": "Still on it; next step tomorrow."}))
            if profile.get("lead_of") and chance.random() < 0.3:
                record("dashboard", browser.request(f"/dashboard/?team={profile['lead_of']}"))

    def record(endpoint: str, answer) -> None:
        with lock:
            results[endpoint].append((answer.status, answer.seconds))

    chosen = [profile for profile in people if profile.get("lead_of")][:2]
    chosen += [profile for profile in people if not profile.get("lead_of")][: max(users - len(chosen), 0)]
    threads = [threading.Thread(target=person, args=(profile, seed)) for seed, profile in enumerate(chosen)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def report(results: dict[str, list], seconds: int) -> None:
    total = sum(len(answers) for answers in results.values())
    errors = sum(1 for answers in results.values() for status, _ in answers if status not in (200, 302))
    print(f"{'endpoint':<14} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for endpoint, answers in sorted(results.items()):
        times = sorted(duration * 1000 for _, duration in answers)
        cuts = statistics.quantiles(times, n=100) if len(times) > 1 else times * 99
        failed = sum(1 for status, _ in answers if status not in (200, 302))
        print(f"{endpoint:<14} {len(answers):>8} {len(answers) / seconds:>7.1f} {cuts[49]:>8.0f} {cuts[94]:>8.0f} "
              f"{cuts[98]:>8.0f} {failed:>7}")
    print(f"{'all':<14} {total:>8} {total / seconds:>7.1f}{'':>27} {errors:>7}")


if __name__ == "__main__":
    main()
