"""The SLA monitor over weeks, under concurrency, and run by a real worker with beat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from issues import services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import Breach, BusinessCalendar, Clock, Status
from issues.scan import scan_sla
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, bulk_issues, make_issue, wait_on_customer
from tests.issues.test_burst_scan import assert_each_breach_exactly_once

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ROOT = Path(__file__).resolve().parents[2]


def emails_by_kind_and_issue() -> Counter:
    return Counter(OutboundEmail.objects.values_list("kind", "issue__title"))


@pytest.mark.django_db
def test_eight_weeks_hour_by_hour_send_exactly_the_expected_emails(customer, contact, manager, lead, team):
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    ContactFactory(customer=customer, email="second@acme.example.com", follows_all_issues=True)
    silent_red = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager, title="silent red")
    services.acknowledge(issue=silent_red, by=manager, now=MONDAY)
    attentive = make_issue(customer=customer, at=MONDAY, severity="orange", owner=manager, title="attentive orange")
    services.acknowledge(issue=attentive, by=manager, now=MONDAY)
    silent_blue = make_issue(customer=customer, at=MONDAY, severity="blue", owner=manager, title="silent blue")
    services.acknowledge(issue=silent_blue, by=manager, now=MONDAY)
    forgotten = make_issue(customer=customer, at=MONDAY, severity="green", owner=manager, title="forgotten green")
    waiting = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager, title="waiting red")
    wait_on_customer(waiting, by=manager, now=MONDAY)
    OutboundEmail.objects.all().delete()  # count only what the monitor sends

    for hour in range(1, 8 * 7 * 24 + 1):
        now = MONDAY + hour * HOUR
        if hour % 30 == 0:  # the attentive owner writes every 30 hours, inside the 36-hour warning mark
            services.post_update(issue=attentive, body="Still on it.", public=True, by=manager, now=now)
        scan_sla(now=now)

    sent = emails_by_kind_and_issue()
    contacts = 2
    # Silent red: acknowledged Monday 09:00, never updated. At risk after 18 h (one reminder), overdue after
    # a day (owner and lead told), then one automatic email a day: days 1..56 of the eight weeks.
    assert sent[(EmailKind.AT_RISK, "silent red")] == 1
    assert sent[(EmailKind.BREACH, "silent red")] == 2
    assert sent[(EmailKind.AUTO_STATUS, "silent red")] == 56 * contacts
    # Attentive orange: never at risk, never overdue.
    assert not any(title == "attentive orange" for kind, title in sent if kind != EmailKind.PUBLIC_UPDATE)
    # Silent blue counts working weeks of 45 h: due Friday 6 Nov 18:00, then every Friday 18:00 until
    # 18 Dec; Christmas (Friday 25 Dec) is a holiday, which would push the eighth slot to Monday 28 Dec, but
    # the calendar ceiling keeps it a week after the seventh: Friday 25 Dec 18:00.
    assert sent[(EmailKind.AT_RISK, "silent blue")] == 1
    assert sent[(EmailKind.BREACH, "silent blue")] == 2
    assert sent[(EmailKind.AUTO_STATUS, "silent blue")] == 8 * contacts
    # Forgotten green: never acknowledged, so one acknowledge reminder and one breach; no automatic email,
    # since a customer hears the first news from a person.
    assert sent[(EmailKind.AT_RISK, "forgotten green")] == 1
    assert sent[(EmailKind.BREACH, "forgotten green")] == 2
    assert sent[(EmailKind.AUTO_STATUS, "forgotten green")] == 0
    # Waiting red: asked on Monday 09:00, and the customer never answers. One reminder three days later;
    # after seven days the wait ends (the owner is told) and its update clock runs again with its whole
    # day: at risk after 18 h, overdue on day 8, then one automatic email a day: days 8..56.
    assert sent[(EmailKind.WAITING_REMINDER, "waiting red")] == 1 * contacts
    assert sent[(EmailKind.WAITING_ENDED, "waiting red")] == 1
    assert sent[(EmailKind.AT_RISK, "waiting red")] == 1
    assert sent[(EmailKind.BREACH, "waiting red")] == 2
    assert sent[(EmailKind.AUTO_STATUS, "waiting red")] == 49 * contacts
    assert Breach.objects.filter(issue=forgotten, clock=Clock.ACKNOWLEDGE).count() == 1
    assert Breach.objects.filter(issue=waiting, clock=Clock.UPDATE).count() == 1
    assert Breach.objects.count() == 4


def wait_for_line(log: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{log.name} never said {text!r}:\n{log.read_text()[-2000:]}")


def run_at_once(jobs: int, work) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(jobs)

    def job() -> None:
        try:
            start.wait()
            work()
        except BaseException as error:  # surfaced to the test below
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=job) for _ in range(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_scans_at_once_then_three_more_record_each_breach_and_send_each_email_exactly_once(
        customer, contact, manager, lead):
    now = timezone.now()
    overdue = bulk_issues(customer=customer, count=1000, opened_at=now - 3 * DAY, acknowledged_at=now - 3 * DAY)

    errors = run_at_once(4, lambda: scan_sla(now=now, batch_size=100))
    for _ in range(3):
        scan_sla(now=now)

    assert not errors
    assert Breach.objects.filter(clock=Clock.UPDATE).count() == 1000
    # The owner and the lead told of each breach once, in their notices listing a scan batch's breaches.
    assert_each_breach_exactly_once(1000, owner=manager, lead=lead)
    autos = Counter(OutboundEmail.objects.filter(kind=EmailKind.AUTO_STATUS).values_list("issue", flat=True))
    assert set(autos) == {issue.pk for issue in overdue} and set(autos.values()) == {1}
    assert OutboundEmail.objects.filter(kind=EmailKind.AT_RISK).count() == 0  # too late to warn: breached


@pytest.mark.postgres
@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_with_beat_runs_the_scan_on_its_own(customer, contact, manager, tmp_path):
    issue = make_issue(customer=customer, at=timezone.now() - DAY, severity="red", owner=manager)
    database = settings.DATABASES["default"]
    environment = {
        **os.environ, "DEBUG": "false", "SECRET_KEY": "worker-in-a-test", "OUTBOX_NUDGE_WORKER": "false",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "INLOOP_VAR_DIR": str(tmp_path), "CELERY_QUEUE": f"test-{uuid.uuid4().hex}",  # no one else's tasks
        "SLA_SCAN_SECONDS": "2",  # beat's first tick comes one interval after it starts
    }
    celery = str(Path(sys.executable).with_name("celery"))
    commands = {  # the production shape: a worker, and one beat of its own
        "worker": [celery, "-A", "tracker", "worker", "--concurrency=1", "--loglevel=info"],
        "beat": [celery, "-A", "tracker", "beat", "--loglevel=info", f"--schedule={tmp_path / 'beat-schedule'}"],
    }
    logs = {name: tmp_path / f"{name}.log" for name in commands}
    processes = []
    for name, command in commands.items():
        processes.append(subprocess.Popen(command, cwd=ROOT, env=environment, stdout=logs[name].open("w"),
                                          stderr=subprocess.STDOUT))
        if name == "worker":  # beat's first tick must find the worker's queue bound
            wait_for_line(logs["worker"], "ready.")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Breach.objects.filter(issue=issue).exists():
            time.sleep(0.5)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
    worker_log = logs["worker"].read_text()
    assert Breach.objects.filter(issue=issue, clock=Clock.ACKNOWLEDGE).count() == 1, worker_log[-3000:]
    assert "Task issues.tasks.scan_sla_task" in worker_log and "succeeded" in worker_log
    connection.close()
