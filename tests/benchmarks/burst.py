"""The burst scan near the floor: thousands of clocks running out at once, against the floor and the peer.

    DATABASE_URL=postgres://…/inloop_bench python tests/benchmarks/burst.py              # 10,000 open, 90 % due
    DATABASE_URL=… python tests/benchmarks/burst.py --peer                                # and django-helpdesk
    DATABASE_URL=… python tests/benchmarks/burst.py --issues 1000000 --due 0.1 --no-floor # memory at scale
    DATABASE_URL=… python tests/benchmarks/burst.py --issues 100000 --due 1 --scanners 4  # four scanners
    DATABASE_URL=… python tests/benchmarks/burst.py --repeat 1 --profile 30            # where the time goes

A burst is what a beat outage, a mass import or a policy edit produces. On a scratch database
(`<name>_burst`, created and dropped) with N open red issues over 50 customers of two teams (an owner, a
lead, a contact per customer who follows its issues; each issue described in about 400 characters, as
customers write), a share of the update clocks falls due at once and
the benchmark prints:
  (a) the scan when nothing is due (median of 30, and its queries);
  (b) the scan: flag, Breach rows, timeline events (each naming who its emails went to), the owner's and the
      lead's notices (one per person and batch, listing their breaches), the automatic status emails; rows
      written, peak memory of the process; drained over SLA_SCAN_CONNECTIONS connections as deployed (2 unless
      set), and on one connection beside it;
  (c) the floor: the same rows written by INSERT … SELECT / UPDATE statements in the database alone (no
      rules, no Python per row), rolled back; (b) / (c);
  (d) with --peer: django-helpdesk (installed from PyPI into a scratch virtualenv, never into this project)
      on its own database `<name>_peer`, with N open tickets of which the same share is overdue, timing its
      `escalate_tickets` command (each overdue ticket escalates and mails its submitter, its owner and the
      queue's CC address: the same three emails); (d) / (b);
  (e) with --scanners K: K scans at once in threads (one connection each), and the exactly-once counts.
The figures are medians of --repeat runs on the same data, each starting from the same state.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
os.environ["OUTBOX_NUDGE_WORKER"] = "false"

CUSTOMERS = 50
# What a customer writes (about 400 characters, English and Korean), the same for every issue here and the peer's.
DESCRIPTION = ("Since this morning's release the transfer screen stops at the confirmation step for some of our "
               "branch users, and the batch of salary payments scheduled for 14:00 is still waiting. "
               "오늘 아침 배포 이후 일부 지점 사용자의 이체 화면이 확인 단계에서 멈추고, 14시에 예약된 급여 이체가 "
               "아직 대기 중입니다. We tried another browser and clearing the cache. 다른 브라우저도 시도했습니다. "
               "Please tell us when you expect a fix, and whether we should send the payments by hand.")
PEER_PACKAGES = ["django-helpdesk==2.6.1", "psycopg2-binary"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--due", type=float, default=0.9, help="share of the open issues newly overdue")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=None, help="the scan's batch size (default: the scan's own)")
    parser.add_argument("--no-floor", action="store_true", help="skip (c)")
    parser.add_argument("--peer", action="store_true", help="also time django-helpdesk's escalate_tickets")
    parser.add_argument("--peer-venv", default=os.path.join(tempfile.gettempdir(), "inloop-peer-venv"))
    parser.add_argument("--scanners", type=int, default=0, help="also run K scans at once (e)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="after the runs, profile one more burst and print its N costliest functions")
    args = parser.parse_args()

    import django
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        sys.exit("Set DATABASE_URL to PostgreSQL: the burst, its floor and the peer are measured there.")
    base_name = settings.DATABASES["default"]["NAME"]
    settings.DATABASES["default"]["NAME"] += "_burst"
    django.setup()

    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    databases = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    bench = Bench(args)
    try:
        bench.create()
        bench.run()
    finally:
        connection.close()
        teardown_databases(databases, verbosity=0)
    if args.peer:
        peer_seconds = run_peer(args, base_name)
        print(f"(d) peer: escalate_tickets     {peer_seconds * 1000:8.1f} ms   "
              f"({bench.due_count:,} tickets escalated, {peer_seconds / bench.due_count * 1e6:,.0f} µs each)")
        print(f"(d) / (b)                      {peer_seconds * 1000 / bench.ours_ms:8.1f} x"
              + (f"   (on one connection: {peer_seconds * 1000 / bench.alone_ms:.1f} x)" if bench.alone_ms else ""))


class Bench:
    def __init__(self, args) -> None:
        self.args = args
        self.due_count = int(args.issues * args.due)
        self.ours_ms = self.alone_ms = 0.0

    def create(self) -> None:
        """N acknowledged, open, red issues in progress, their clocks comfortably in the future, inserted by the
        database itself (a million take a minute); each customer has one contact who follows its issues."""
        from django.db import connection
        from django.utils import timezone

        from issues.models import Contact, Customer, Profile, Team
        from tests.factories import UserFactory

        self.now = now = timezone.now().replace(microsecond=0)
        leads = [UserFactory(username=f"bench-lead-{n}") for n in range(2)]
        owners = [UserFactory(username=f"bench-owner-{n}") for n in range(2)]
        Profile.objects.create(user=leads[1], language="ko")
        customers = []
        for number in range(CUSTOMERS):
            team, _ = Team.objects.get_or_create(name=f"Bench team {number % 2}", defaults={"lead": leads[number % 2]})
            team.members.add(owners[number % 2])
            customer = Customer.objects.create(name=f"Bench customer {number}", slug=f"bench-{number}",
                                               code=f"B{number:03d}", team=team, account_manager=owners[number % 2])
            Contact.objects.create(customer=customer, name=f"Reader {number}", email=f"reader{number}@bench.example.com",
                                   language="ko" if number % 3 == 0 else "en", follows_all_issues=True)
            customers.append((customer.pk, owners[number % 2].pk))
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"""
                INSERT INTO issues_issue (title, description, severity, status, customer_id, owner_id, created_at,
                    updated_at, ack_started_at, acknowledged_at, update_started_at, update_paused_for,
                    auto_emails_sent, update_due_at, update_at_risk_at, auto_email_due_at)
                SELECT 'Bench issue ' || n, %(description)s, 'red', 'in_progress', (ARRAY{[pk for pk, _ in customers]})[1 + mod(n, {CUSTOMERS})],
                    (ARRAY{[owner for _, owner in customers]})[1 + mod(n, {CUSTOMERS})], %(start)s, %(start)s, %(start)s,
                    %(start)s, %(start)s, interval '0', 0, %(later)s, %(later)s, %(later)s
                FROM generate_series(1, %(count)s) AS n""",
                {"start": now - timedelta(hours=23), "later": now + timedelta(days=2), "count": self.args.issues,
                 "description": DESCRIPTION})
        settle()
        print(f"created {self.args.issues:,} open issues in {time.perf_counter() - started:.1f} s")

    def fall_due(self) -> None:
        """The burst: the first share of the issues reach their update due time at once (warned already, as on
        a normal day); the rest stay due another day. The same state before every run."""
        from django.db import connection

        written = ["issues_issueevent", "issues_breach", "notifications_outboundemail", "issues_complianceday"]
        with connection.cursor() as cursor:
            # A scratch database: what the last run wrote goes at once (CASCADE: rows that point at it, none here).
            tables = [table for table in written if table in connection.introspection.table_names()]
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
            cursor.execute("""
                UPDATE issues_issue SET update_breached_at = NULL, auto_emails_sent = 0, last_auto_email_at = NULL,
                    customer_last_heard_at = NULL, update_warned_at = %(warned)s, update_at_risk_at = %(warned)s,
                    update_due_at = %(due_at)s, auto_email_due_at = %(due_at)s
                WHERE id IN (SELECT id FROM issues_issue ORDER BY id LIMIT %(due)s)""",
                {"warned": self.now - timedelta(hours=5), "due_at": self.now, "due": self.due_count})
        settle()

    def run(self) -> None:
        from django.conf import settings
        from django.db import connection

        from issues.scan import scan_sla

        at = self.now + timedelta(minutes=1)
        scan = (lambda: scan_sla(now=at, batch_size=self.args.batch)) if self.args.batch else (lambda: scan_sla(now=at))
        self.fall_due()
        quiet_at = self.now - timedelta(minutes=1)
        quiet = [timed(lambda: scan_sla(now=quiet_at)) for _ in range(30)]
        ours, alone, floors, written, floor_written, peak, before = [], [], [], None, None, 0.0, 0.0
        shared = settings.SLA_SCAN_CONNECTIONS
        for _ in range(self.args.repeat):
            if not self.args.no_floor:
                self.fall_due()
                floors.append(timed(lambda: floor(at)))
                floor_written = FLOOR_COUNTS.copy()
            if shared > 1:  # the same burst on one connection, for comparison
                self.fall_due()
                settings.SLA_SCAN_CONNECTIONS = 1
                alone.append(timed(scan))
                settings.SLA_SCAN_CONNECTIONS = shared
            self.fall_due()
            reset_peak_memory()
            before = peak_mb()
            ours.append(timed(scan))
            peak = max(peak, peak_mb())
            written = counts()
        median = lambda runs, at=0: statistics.median(run[at] for run in runs)
        self.ours_ms = median(ours)
        self.alone_ms = median(alone) if alone else 0.0
        print(f"database                       {connection.vendor}; {self.args.issues:,} open issues, "
              f"{self.due_count:,} newly overdue; other processes share the CPU")
        print(f"(a) scan, nothing due          {median(quiet):8.1f} ms   {quiet[0][1]} queries (median of 30)")
        print(f"(b) scan, the burst            {median(ours):8.1f} ms   {ours[0][1]} statements over {shared} "
              f"connection(s) (SLA_SCAN_CONNECTIONS); wrote {written}; {median(ours, 2):.0f} ms CPU in this process")
        if alone:
            print(f"    on one connection          {median(alone):8.1f} ms   {alone[0][1]} statements; "
                  f"{median(alone, 2):.0f} ms CPU in this process")
        print(f"    per breach                 {median(ours) / max(self.due_count, 1) * 1000:8.1f} µs; "
              f"peak memory of the process during the scan {peak:.0f} MB ({before:.0f} MB before it)")
        if floors:
            print(f"(c) floor: INSERT … SELECT     {median(floors):8.1f} ms   wrote {floor_written} (one connection)")
            print(f"(b) / (c)                      {median(ours) / median(floors):8.2f} x"
                  + (f"   (on one connection: {median(alone) / median(floors):.2f} x)" if alone else ""))
        if self.args.scanners:
            self.fall_due()
            self.scanners(at)
        if self.args.profile:
            self.fall_due()
            profiled(scan, self.args.profile)

    def scanners(self, at) -> None:
        """K scans at once, each in its own thread and connection, as K beats or workers would."""
        from django.db import connections

        from issues.scan import scan_sla

        errors, start = [], threading.Barrier(self.args.scanners)

        def scan() -> None:
            try:
                start.wait()
                scan_sla(now=at)
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=scan) for _ in range(self.args.scanners)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        once = exactly_once()
        print(f"(e) {self.args.scanners} scanners at once         {elapsed:8.2f} s   errors: {len(errors)}; {once}")


def timed(work) -> tuple[float, int, float]:
    """Wall time (ms), statements (the scan's helpers' included: connections opened meanwhile are logged too), and
    the CPU time this process spent, all its threads (ms): the rest is the database's."""
    from django.db import connection
    from django.db.backends.signals import connection_created
    from django.test.utils import CaptureQueriesContext

    helpers = []

    def logged(sender, connection, **kwargs) -> None:
        connection.force_debug_cursor = True
        helpers.append(connection)

    connection_created.connect(logged)
    try:
        with CaptureQueriesContext(connection) as queries:
            started, cpu = time.perf_counter(), time.process_time()
            work()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        connection_created.disconnect(logged)
    return elapsed * 1000, len(queries) + sum(len(helper.queries_log) for helper in helpers), cpu * 1000


def profiled(work, lines: int) -> None:
    """Where one burst's time in this process goes: the costliest functions, by their own time."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.runcall(work)
    pstats.Stats(profile).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(lines)


def reset_peak_memory() -> None:
    """Start counting this process's peak resident memory afresh (Linux: VmHWM back to the current size)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def peak_mb() -> float:
    """This process's peak resident memory since the last reset, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settle() -> None:
    """VACUUM ANALYZE after the mass updates, as autovacuum would long before the next minute's scan."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("issues_issue", "issues_issueevent", "issues_breach", "notifications_outboundemail"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def counts() -> dict:
    from issues.models import Breach, IssueEvent
    from notifications.models import OutboundEmail

    return {"breaches": Breach.objects.count(), "events": IssueEvent.objects.count(),
            "emails": OutboundEmail.objects.count()}


def exactly_once() -> str:
    from issues.models import Breach, EventKind, IssueEvent
    from notifications.models import OutboundEmail

    breaches = Counter(Breach.objects.values_list("issue", "clock", "cycle_started_at"))
    events = Counter(IssueEvent.objects.filter(kind=EventKind.CLOCK_BREACHED).values_list("issue", flat=True))
    emails = Counter(OutboundEmail.objects.values_list("dedupe_key", flat=True))
    autos = Counter(IssueEvent.objects.filter(kind=EventKind.AUTO_STATUS_EMAIL).values_list("issue", flat=True))
    return (f"{len(breaches):,} breaches (max {max(breaches.values(), default=0)} per cycle), "
            f"{len(events):,} breach events (max {max(events.values(), default=0)} per issue), "
            f"{len(autos):,} automatic emails noted (max {max(autos.values(), default=0)} per issue), "
            f"{sum(emails.values()):,} emails, {len(emails):,} keys")


# --- the floor: the same rows, written by the database alone -------------------------------------------

FLOOR_COUNTS: dict = {}
SCAN_BATCH = 2000  # issues.scan.BATCH_SIZE: a person's notice lists their breaches of one batch
STAMP = """to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00'"""
FLOOR = [
    # the claim: flag the newly overdue, and count their automatic email in the same new version of each row
    # (counted, next due, and heard where a contact receives updates), as the scan writes
    ("flagged and counted", """UPDATE issues_issue SET update_breached_at = %(at)s,
        auto_emails_sent = auto_emails_sent + CASE WHEN auto_email_due_at <= %(at)s THEN 1 ELSE 0 END,
        last_auto_email_at = CASE WHEN auto_email_due_at <= %(at)s THEN %(at)s ELSE last_auto_email_at END,
        auto_email_due_at = CASE WHEN auto_email_due_at <= %(at)s THEN %(at)s + interval '1 day'
            ELSE auto_email_due_at END,
        customer_last_heard_at = CASE WHEN auto_email_due_at <= %(at)s AND EXISTS (SELECT FROM issues_contact AS contact
            WHERE contact.customer_id = issues_issue.customer_id AND contact.follows_all_issues
            AND contact.receives_updates AND contact.undeliverable_at IS NULL) THEN %(at)s ELSE customer_last_heard_at END
        WHERE resolved_at IS NULL AND update_breached_at IS NULL AND update_due_at <= %(at)s"""),
    ("breaches", """INSERT INTO issues_breach (issue_id, clock, severity, cycle_started_at, due_at, breached_at,
        escalate_at, escalated_to, repeats)
        SELECT id, 'update', severity, update_started_at, update_due_at, %(at)s, %(at)s + interval '2 hours', '', 0
        FROM issues_issue WHERE update_breached_at = %(at)s ON CONFLICT DO NOTHING"""),
    # the breach's line names who was told (the owner and the lead, each in a notice listing their breaches)
    ("breach events", f"""INSERT INTO issues_issueevent (issue_id, kind, at, public, body, old_value, new_value, data)
        SELECT issue.id, 'clock_breached', %(at)s, false, '', '', 'update',
            jsonb_build_object('clock', 'update', 'due_at', {STAMP.format('issue.update_due_at')}, 'emails',
                jsonb_build_object('breaches', jsonb_build_array(owner.email, lead.email)))
        FROM issues_issue AS issue JOIN issues_customer AS customer ON customer.id = issue.customer_id
            JOIN issues_team AS team ON team.id = customer.team_id
            JOIN auth_user AS owner ON owner.id = issue.owner_id JOIN auth_user AS lead ON lead.id = team.lead_id
        WHERE issue.update_breached_at = %(at)s"""),
    # one notice per person and batch of the scan, listing the first 25 of their breaches
    ("breach notices", f"""INSERT INTO notifications_outboundemail (recipient, recipient_name, language, context,
            subject, body_text, body_html, headers, kind, dedupe_key, message_id, status, attempts,
            next_attempt_at, last_error, bounce_pending, created_at)
        SELECT person.email, person.username, 'en', jsonb_build_object('clock', 'update', 'count', count(*),
                'yours', count(*) FILTER (WHERE part.role = 'owner'), 'issues', to_jsonb((array_agg(
                    jsonb_build_object('id', due.id, 'due_at', {STAMP.format('due.update_due_at')}, 'raised', false,
                        'role', part.role, 'is_owner', part.role = 'owner', 'owner_gone', false, 'unowned', false)
                    ORDER BY due.id))[1:25])),
            '', '', '', '{{}}', 'breaches',
            'breach:' || min(due.id) || ':update:' || min({STAMP.format('due.update_started_at')}) || ':' || person.id,
            '<' || md5(random()::text || person.id) || '@inloop.localhost>', 'pending', 0, %(at)s, '', false, %(at)s
        FROM (SELECT issue.id, issue.update_due_at, issue.update_started_at, issue.owner_id, team.lead_id,
                  (row_number() OVER (ORDER BY issue.id) - 1) / {SCAN_BATCH} AS batch
              FROM issues_issue AS issue JOIN issues_customer AS customer ON customer.id = issue.customer_id
                  JOIN issues_team AS team ON team.id = customer.team_id
              WHERE issue.update_breached_at = %(at)s) AS due
            CROSS JOIN LATERAL (VALUES ('owner', due.owner_id), ('lead', due.lead_id)) AS part(role, person_id)
            JOIN auth_user AS person ON person.id = part.person_id
        GROUP BY person.id, person.email, person.username, due.batch ON CONFLICT DO NOTHING"""),
    ("automatic emails", f"""INSERT INTO notifications_outboundemail (recipient, recipient_name, language, context,
            subject, body_text, body_html, headers, kind, issue_id, contact_id, dedupe_key, message_id, status,
            attempts, next_attempt_at, last_error, bounce_pending, created_at)
        SELECT contact.email, contact.name, contact.language, jsonb_build_object('automatic', true, 'number',
                issue.auto_emails_sent, 'latest_event', NULL, 'next_update_at', {STAMP.format('issue.auto_email_due_at')}),
            '', '', '', '{{}}', 'auto_status', issue.id, contact.id,
            'auto:' || issue.id || ':' || {STAMP.format('issue.update_started_at')} || ':' || issue.auto_emails_sent
                || ':' || contact.id,
            '<i' || issue.id || 'c' || contact.id || 's' || substr(md5(issue.id || ':' || contact.id), 1, 10) || '.'
                || substr(md5(random()::text), 1, 16) || '@inloop.localhost>', 'pending', 0, %(at)s, '', false, %(at)s
        FROM issues_issue AS issue JOIN issues_contact AS contact ON contact.customer_id = issue.customer_id
            AND contact.follows_all_issues AND contact.receives_updates AND contact.undeliverable_at IS NULL
        WHERE issue.last_auto_email_at = %(at)s ON CONFLICT DO NOTHING"""),
    # the automatic email's line names who it went to
    ("automatic email events", f"""INSERT INTO issues_issueevent (issue_id, kind, at, public, body, old_value,
            new_value, data)
        SELECT issue.id, 'auto_status_email', %(at)s, true, '', '', 'update', jsonb_build_object('number',
            issue.auto_emails_sent, 'next_update_at', {STAMP.format('issue.auto_email_due_at')}, 'emails',
            jsonb_build_object('auto_status', sent.recipients))
        FROM issues_issue AS issue JOIN (SELECT issue_id, jsonb_agg(recipient ORDER BY id) AS recipients
            FROM notifications_outboundemail WHERE created_at = %(at)s AND kind = 'auto_status' GROUP BY issue_id
        ) AS sent ON sent.issue_id = issue.id
        WHERE issue.last_auto_email_at = %(at)s"""),
]


def floor(at) -> None:
    """The burst's rows, written by the database alone, in one transaction, committed as the scan's are (the
    foreign keys are checked at commit: a rolled-back floor would skip that)."""
    from django.db import connection, transaction

    from issues.scan import BATCH_SIZE

    assert BATCH_SIZE == SCAN_BATCH, "the floor's batches are the scan's"
    with transaction.atomic(), connection.cursor() as cursor:
        for name, sql in FLOOR:
            t0 = time.perf_counter()
            cursor.execute(sql, {"at": at})
            FLOOR_COUNTS[name] = cursor.rowcount
            if os.environ.get("FLOOR_DEBUG"):
                print(f"   {name:30} {(time.perf_counter() - t0) * 1000:8.1f} ms")


# --- the peer: django-helpdesk's escalate_tickets, in a virtualenv and a database of its own ----------------

PEER_SETTINGS = """
    import os
    SECRET_KEY = "peer-benchmark-only"
    DEBUG = False
    USE_TZ = True
    INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                      "django.contrib.sessions", "django.contrib.messages", "django.contrib.sites",
                      "django.contrib.humanize", "rest_framework", "helpdesk"]
    SITE_ID = 1
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PEER_DB_NAME"],
                             "USER": os.environ["PEER_DB_USER"], "PASSWORD": os.environ["PEER_DB_PASSWORD"],
                             "HOST": os.environ["PEER_DB_HOST"], "PORT": os.environ["PEER_DB_PORT"],
                             "OPTIONS": {"options": "-c jit=off"}}}
    # Nothing leaves the process: the most generous setting for the peer, which sends while it escalates.
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    HELPDESK_TEAMS_MODE_ENABLED = False
    ROOT_URLCONF = "peer_urls"
    TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                  "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth",
                                                     "django.contrib.messages.context_processors.messages",
                                                     "django.template.context_processors.request"]}}]
    MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
                  "django.contrib.auth.middleware.AuthenticationMiddleware",
                  "django.contrib.messages.middleware.MessageMiddleware"]
    DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""
PEER_URLS = """
    from django.urls import include, path
    urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
"""
PEER_RUN = """
    import json, os, sys, time
    from datetime import timedelta
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone
    from helpdesk.models import FollowUp, Queue, Ticket

    count, due = int(sys.argv[1]), int(sys.argv[2])
    User = get_user_model()
    owner = User.objects.create_user("owner", "owner@example.com", "not-a-secret")
    User.objects.create_user("lead", "lead@example.com", "not-a-secret")
    # Escalation after a day; every open ticket mails its submitter, its owner and the queue's CC (the lead).
    queue = Queue.objects.create(title="Support", slug="support", email_address="support@example.com",
                                 escalate_days=1, updated_ticket_cc="lead@example.com")
    now = timezone.now()
    Ticket.objects.bulk_create([
        Ticket(title=f"Ticket {n}", queue=queue, submitter_email=f"reader{n % 50}@customer.example.com",
               assigned_to=owner, status=Ticket.OPEN_STATUS, priority=3, description=os.environ["PEER_DESCRIPTION"])
        for n in range(count)], batch_size=2000)
    # created is auto_now_add: the overdue ones are aged afterwards.
    Ticket.objects.filter(id__in=Ticket.objects.order_by("id").values("id")[:due]).update(
        created=now - timedelta(days=3))
    started = time.perf_counter()
    call_command("escalate_tickets")
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "escalated": Ticket.objects.filter(last_escalation__isnull=False).count(),
                      "followups": FollowUp.objects.count()}))
"""


def run_peer(args, base_name: str) -> float:
    """Install django-helpdesk from PyPI into a scratch virtualenv (once), give it a database of its own, seed
    N open tickets of which the same share is overdue, and time its escalate_tickets command."""
    from django.conf import settings

    venv = Path(args.peer_venv)
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
    database = settings.DATABASES["default"]
    name = f"{base_name}_peer"
    project = Path(tempfile.mkdtemp(prefix="inloop-peer-"))
    for filename, text in {"peer_settings.py": PEER_SETTINGS, "peer_urls.py": PEER_URLS,
                           "peer_run.py": PEER_RUN}.items():
        (project / filename).write_text(textwrap.dedent(text))
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "peer_settings", "PYTHONPATH": str(project),
                   "PEER_DESCRIPTION": DESCRIPTION, "PEER_DB_NAME": name, "PEER_DB_USER": database["USER"], "PEER_DB_PASSWORD": database["PASSWORD"] or "",
                   "PEER_DB_HOST": database["HOST"] or "127.0.0.1", "PEER_DB_PORT": str(database["PORT"] or 5432)}
    recreate_database(name)
    try:
        subprocess.run([str(python), "-m", "django", "migrate", "-v0"], cwd=project, env=environment, check=True)
        output = subprocess.run([str(python), "peer_run.py", str(args.issues), str(int(args.issues * args.due))],
                                cwd=project, env=environment, check=True, capture_output=True, text=True).stdout
    finally:
        drop_database(name)
    result = json.loads(output.strip().splitlines()[-1])
    if result["escalated"] != int(args.issues * args.due):
        sys.exit(f"the peer escalated {result['escalated']} tickets, not {int(args.issues * args.due)}")
    return result["seconds"]


def recreate_database(name: str) -> None:
    drop_database(name)
    _maintenance(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    _maintenance(f'DROP DATABASE IF EXISTS "{name}"')


def _maintenance(sql: str) -> None:
    from django.db import connection

    with connection._nodb_cursor() as cursor:  # the maintenance database: the peer's may not exist yet
        cursor.execute(sql)


if __name__ == "__main__":
    main()
