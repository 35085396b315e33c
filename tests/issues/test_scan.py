"""The SLA monitor, scenario by scenario, with time passed in."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from issues import services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import (
    Breach,
    BusinessCalendar,
    Clock,
    EventKind,
    Issue,
    SlaPolicy,
    Status,
)
from issues.scan import scan_sla
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, make_issue, wait_on_customer

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)  # the start of a working week
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_hours(team):
    """The team works Mon-Fri 09:00-18:00 in Seoul: blue and green count those hours."""
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    return team.calendar


def sent(kind: str, to: str | None = None) -> list[OutboundEmail]:
    rows = OutboundEmail.objects.filter(kind=kind).order_by("id")
    return [row for row in rows if to is None or row.recipient == to]


def breaches(issue: Issue, clock: str) -> int:
    return Breach.objects.filter(issue=issue, clock=clock).count()


ACK_WINDOWS = [("red", HOUR), ("orange", 4 * HOUR), ("blue", 9 * HOUR), ("green", 9 * HOUR)]


@pytest.mark.parametrize(("severity", "window"), ACK_WINDOWS)
def test_an_unacknowledged_issue_breaches_at_its_severitys_minute_and_the_lead_is_told_once(
        office_hours, customer, manager, lead, severity, window):
    issue = make_issue(customer=customer, at=MONDAY, severity=severity, owner=manager)
    due = MONDAY + window  # blue and green: 9 working hours from Monday 09:00 is Monday 18:00

    assert scan_sla(now=due - MINUTE).breaches == 0
    assert scan_sla(now=due + MINUTE).breaches == 1
    assert scan_sla(now=due + 2 * MINUTE).breaches == 0  # twice is once

    assert breaches(issue, Clock.ACKNOWLEDGE) == 1
    assert len(sent(EmailKind.BREACH, lead.email)) == 1
    assert len(sent(EmailKind.BREACH, manager.email)) == 1
    assert Issue.objects.get(pk=issue.pk).owner == manager  # the lead is added, never put in charge


UPDATE_WINDOWS = [("red", DAY), ("orange", 2 * DAY), ("blue", 4 * DAY + 9 * HOUR), ("green", 4 * DAY + 9 * HOUR)]


@pytest.mark.parametrize(("severity", "window"), UPDATE_WINDOWS)
def test_an_acknowledged_issue_without_news_breaches_its_update_clock_at_the_right_minute(
        office_hours, customer, contact, manager, severity, window):
    issue = make_issue(customer=customer, at=MONDAY, severity=severity, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=MONDAY)
    due = MONDAY + window  # blue and green: 45 working hours from Monday 09:00 is Friday 18:00

    assert scan_sla(now=due - MINUTE).breaches == 0
    assert scan_sla(now=due + MINUTE).breaches == 1
    assert scan_sla(now=due + 2 * MINUTE).breaches == 0

    breach = Breach.objects.get(issue=issue, clock=Clock.UPDATE)
    assert (breach.due_at, breach.cycle_started_at, breach.severity) == (due, MONDAY, severity)
    assert issue.events.filter(kind=EventKind.CLOCK_BREACHED, new_value=Clock.UPDATE).count() == 1


def test_the_owner_is_reminded_once_when_a_clock_is_at_risk_with_a_link_to_a_prefilled_update(
        customer, manager):
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager)

    assert scan_sla(now=MONDAY + 44 * MINUTE).warnings == 0
    assert scan_sla(now=MONDAY + 45 * MINUTE).warnings == 1
    assert scan_sla(now=MONDAY + 50 * MINUTE).warnings == 0

    (reminder,) = sent(EmailKind.AT_RISK)
    reminder = rendered(reminder)
    assert reminder.recipient == manager.email
    assert f"/issues/{issue.pk}/?compose=update" in reminder.body_text
    assert issue.events.get(kind=EventKind.CLOCK_WARNED).new_value == Clock.ACKNOWLEDGE


def test_an_unowned_issues_reminder_goes_to_the_customers_account_manager(customer, manager, lead):
    make_issue(customer=customer, at=MONDAY, severity="red", by=lead)

    scan_sla(now=MONDAY + 50 * MINUTE)

    (reminder,) = sent(EmailKind.AT_RISK)
    assert reminder.recipient == manager.email
    assert "no owner yet" in rendered(reminder).body_text


def test_a_scan_that_comes_late_sends_the_breach_notice_and_skips_the_stale_reminder(customer, manager):
    make_issue(customer=customer, at=MONDAY, severity="red", owner=manager)

    report = scan_sla(now=MONDAY + 3 * HOUR)

    assert (report.warnings, report.breaches) == (0, 1)
    assert not sent(EmailKind.AT_RISK)


def test_staff_emails_outside_working_hours_never_wait_past_the_due_time_or_the_weekend_and_red_never_waits(
        office_hours, customer, manager, lead):
    friday_evening = datetime(2026, 11, 6, 17, 0, tzinfo=SEOUL)
    orange = make_issue(customer=customer, at=friday_evening, severity="orange", owner=manager)
    red = make_issue(customer=customer, at=friday_evening + 3 * HOUR, severity="red", owner=manager)

    scan_sla(now=friday_evening + 3 * HOUR + MINUTE)  # orange at risk (20:00)
    scan_sla(now=friday_evening + 4 * HOUR + MINUTE)  # orange and red overdue (21:00)

    # Monday 09:00 comes after the orange clock is due: the reminder goes at once, and the breach
    # notice waits for a morning, never the whole weekend (tests/issues/test_reminder_timing.py).
    (reminder,) = sent(EmailKind.AT_RISK)
    assert reminder.issue == orange and reminder.next_attempt_at == friday_evening + 3 * HOUR + MINUTE
    assert {row.next_attempt_at for row in sent(EmailKind.BREACH) if row.issue == orange} == {
        friday_evening + 16 * HOUR + MINUTE}
    assert {row.next_attempt_at for row in sent(EmailKind.BREACH) if row.issue == red} == {
        friday_evening + 4 * HOUR + MINUTE}


def test_a_breached_update_clock_sends_the_customer_one_automatic_email_per_update_window(
        customer, contact, manager):
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager)
    services.acknowledge(issue=issue, by=manager, now=MONDAY)
    due = MONDAY + DAY

    assert scan_sla(now=due + MINUTE).auto_emails == 1
    assert scan_sla(now=due + 2 * MINUTE).auto_emails == 0
    assert scan_sla(now=due + DAY - MINUTE).auto_emails == 0
    assert scan_sla(now=due + DAY).auto_emails == 1

    first, second = sent(EmailKind.AUTO_STATUS, contact.email)
    first = rendered(first)
    assert "This is where it stands" in first.body_text and "Hana Lee remains your contact" in first.body_text
    assert first.headers["Auto-Submitted"] == "auto-generated"
    event = issue.events.filter(kind=EventKind.AUTO_STATUS_EMAIL).first()
    assert event.public and event.actor is None and event.data["number"] == 1
    assert Breach.objects.get(issue=issue, clock=Clock.UPDATE).cleared_at is None  # only a human clears it


def test_the_automatic_email_tells_the_latest_public_news_and_never_an_internal_note(customer, contact, manager):
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager)
    services.post_update(issue=issue, body="We reproduced it on our side.", public=True, by=manager, now=MONDAY)
    services.post_update(issue=issue, body="Vendor bug, refund likely.", public=False, by=manager,
                         now=MONDAY + HOUR)

    scan_sla(now=MONDAY + DAY + MINUTE)

    (email,) = sent(EmailKind.AUTO_STATUS, contact.email)
    text = rendered(email).body_text
    assert "We reproduced it on our side." in text
    assert "Vendor bug" not in text


def test_no_automatic_email_when_the_policy_says_so_or_to_a_muted_contact(customer, contact, manager):
    ContactFactory(customer=customer, email="muted@acme.example.com", receives_updates=False)
    SlaPolicy.objects.filter(severity="orange").update(auto_status_email=False)
    red = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager)
    orange = make_issue(customer=customer, at=MONDAY, severity="orange", owner=manager)
    for issue in (red, orange):
        services.acknowledge(issue=issue, by=manager, now=MONDAY)

    scan_sla(now=MONDAY + 3 * DAY)

    assert [row.issue for row in sent(EmailKind.AUTO_STATUS)] == [red]
    assert not sent(EmailKind.AUTO_STATUS, "muted@acme.example.com")


def test_a_human_public_update_clears_the_breach_and_restarts_the_clock(customer, contact, manager):
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager)
    services.acknowledge(issue=issue, by=manager, now=MONDAY)
    scan_sla(now=MONDAY + DAY + MINUTE)

    services.post_update(issue=issue, body="Fix deployed to staging.", public=True, by=manager,
                         now=MONDAY + DAY + HOUR)

    assert Breach.objects.get(issue=issue, clock=Clock.UPDATE).cleared_at == MONDAY + DAY + HOUR
    assert scan_sla(now=MONDAY + 2 * DAY).auto_emails == 0  # the old schedule is gone
    assert scan_sla(now=MONDAY + 2 * DAY + HOUR + MINUTE).breaches == 1  # a new cycle, a new breach
    assert Breach.objects.filter(issue=issue, clock=Clock.UPDATE).count() == 2


def test_waiting_on_the_customer_reminds_them_once_and_their_answer_gets_a_whole_window(customer, manager):
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager)
    services.acknowledge(issue=issue, by=manager, now=MONDAY)
    wait_on_customer(issue, by=manager, now=MONDAY + 6 * HOUR)

    assert scan_sla(now=MONDAY + 3 * DAY + 5 * HOUR).waiting_reminders == 0
    assert scan_sla(now=MONDAY + 3 * DAY + 6 * HOUR).waiting_reminders == 1  # three days after the question
    assert scan_sla(now=MONDAY + 5 * DAY) == scan_sla(now=MONDAY + 5 * DAY)  # nothing more, twice
    assert not Breach.objects.exists()

    services.change_status(issue=issue, status=Status.IN_PROGRESS, by=manager, now=MONDAY + 5 * DAY)
    due = MONDAY + 6 * DAY  # the question was news: a whole day from their answer
    assert scan_sla(now=due - MINUTE).breaches == 0
    assert scan_sla(now=due + MINUTE).breaches == 1


def test_a_promised_update_date_is_the_due_time(customer, contact, manager):
    issue = make_issue(customer=customer, at=MONDAY, severity="orange", owner=manager)
    promise = MONDAY + DAY
    services.post_update(issue=issue, body="We will know more tomorrow.", public=True, by=manager,
                         promised_update_at=promise, now=MONDAY)

    assert scan_sla(now=promise - MINUTE).breaches == 0
    assert scan_sla(now=promise + MINUTE).breaches == 1


def test_a_reopened_issue_gets_a_fresh_acknowledge_clock_and_no_instant_overdue_email(customer, manager, lead):
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager)
    services.acknowledge(issue=issue, by=manager, now=MONDAY + 10 * MINUTE)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=MONDAY + HOUR)
    reopened_at = MONDAY + 10 * DAY

    services.reopen(issue=issue, by=manager, now=reopened_at)

    assert scan_sla(now=reopened_at + MINUTE).breaches == 0
    assert not sent(EmailKind.BREACH)
    assert scan_sla(now=reopened_at + HOUR + MINUTE).breaches == 1


def test_a_severity_raised_on_an_old_issue_breaches_at_once_and_the_notice_says_why(customer, manager, lead):
    issue = make_issue(customer=customer, at=MONDAY, severity="blue", owner=manager)
    services.change_severity(issue=issue, severity="red", by=manager, now=MONDAY + 3 * HOUR)

    assert scan_sla(now=MONDAY + 3 * HOUR + MINUTE).breaches == 1

    notice = rendered(sent(EmailKind.BREACH, lead.email)[0])
    assert "the severity was raised from Blue to Red" in notice.body_text
    assert "already overdue" in notice.body_text


def test_the_command_runs_the_same_scan_and_says_what_it_did(customer, manager):
    make_issue(customer=customer, at=MONDAY - DAY, severity="red", owner=manager)
    from io import StringIO

    output = StringIO()
    call_command("scan_sla", stdout=output)

    assert output.getvalue().strip() == ("SLA scan: 0 warning(s), 1 breach(es), 0 automatic status email(s), "
                                         "0 waiting reminder(s), 0 wait(s) ended, 0 deadline warning(s), "
                                         "0 promise(s) broken, 0 escalation(s).")


def test_the_beat_task_runs_the_same_scan(customer, manager, settings):
    from issues.tasks import scan_sla_task

    make_issue(customer=customer, at=MONDAY - DAY, severity="red", owner=manager)

    assert scan_sla_task.apply().get() == {"warnings": 0, "breaches": 1, "auto_emails": 0, "waiting_reminders": 0,
                                           "waits_ended": 0, "deadline_warnings": 0, "promises_broken": 0,
                                           "escalations": 0}
    assert settings.CELERY_BEAT_SCHEDULE["scan-sla"]["task"] == scan_sla_task.name
    assert settings.CELERY_BEAT_SCHEDULE["scan-sla"]["schedule"] == 60.0
