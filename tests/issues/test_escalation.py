"""The escalation ladder that repeats: after the owner and the lead, the team's escalation contact hears once if a
clock stays breached; and each working morning, until the breach is cleared, owner and lead are reminded once —
in their digest when one goes to them, else by email, never both."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from issues import services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import (
    Breach,
    BusinessCalendar,
    EventKind,
    IssueEvent,
    Profile,
    SlaPolicy,
)
from issues.reporting.counts import Moment
from issues.reporting.exports import breach_header, breach_rows
from issues.scan import escalate, scan_sla
from issues.templatetags.inloop import event_summary
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from notifications.repeats import send_mornings
from tests.factories import UserFactory, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
THURSDAY = datetime(2026, 11, 5, 10, 0, tzinfo=SEOUL)
FRIDAY = datetime(2026, 11, 6, 10, 0, tzinfo=SEOUL)
MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=SEOUL)  # opening time of a working Monday
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

pytestmark = pytest.mark.django_db


def outbox(kind: str, user=None) -> list[OutboundEmail]:
    rows = OutboundEmail.objects.filter(kind=kind).order_by("pk")
    return [rendered(row) for row in (rows.filter(recipient=user.email) if user else rows)]


@pytest.fixture
def minji(team):
    """Head of support: the team's escalation contact."""
    boss = UserFactory(username="minji", first_name="Minji", last_name="Park")
    team.members.add(boss)
    team.escalation_contact = boss
    team.save()
    return boss


@pytest.fixture
def office_hours(team):
    """The team works Mon-Fri 09:00-18:00 in Seoul."""
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    return team


@pytest.fixture
def friday_breach(office_hours, customer, manager):
    """A blue issue Hana did not acknowledge within its working day: breached on Friday at 10:00."""
    issue = make_issue(customer=customer, at=THURSDAY, severity="blue", owner=manager, title="Invoices missing")
    assert scan_sla(now=FRIDAY).breaches == 1
    return issue


# --- the third rung -------------------------------------------------------------------------------


def test_a_red_breach_reaches_the_escalation_contact_two_hours_later_and_once(customer, manager, lead, minji):
    opened = datetime(2026, 11, 4, 22, 0, tzinfo=SEOUL)  # a Wednesday night: red does not wait for mornings
    issue = make_issue(customer=customer, at=opened, severity="red", owner=manager, title="Checkout down")
    breached_at = opened + HOUR + MINUTE
    assert scan_sla(now=breached_at).breaches == 1
    breach = Breach.objects.get(issue=issue)
    assert breach.escalate_at == breached_at + 2 * HOUR

    assert scan_sla(now=breached_at + 2 * HOUR - MINUTE).escalations == 0
    assert scan_sla(now=breached_at + 2 * HOUR).escalations == 1
    assert scan_sla(now=breached_at + 2 * HOUR + MINUTE).escalations == 0  # twice = once

    (email,) = outbox(EmailKind.ESCALATION)
    assert email.recipient == minji.email
    assert email.dedupe_key == f"escalate:{breach.pk}:{minji.pk}"
    assert email.subject == f"[ACME-{issue.pk}] Escalated: acknowledge of Checkout down still overdue"
    assert "You hear as the team's escalation contact." in email.body_text
    assert "Hana Lee stays the customer's contact" in email.body_text
    breach.refresh_from_db()
    issue.refresh_from_db()
    assert (breach.escalated_at, breach.escalated_to) == (breached_at + 2 * HOUR, "Minji Park")
    assert issue.owner == manager  # the owner stays the customer's contact
    event = IssueEvent.objects.get(issue=issue, kind=EventKind.ESCALATED)
    assert event_summary(event) == "Acknowledge clock still breached: escalated to Minji Park"


def test_a_blue_breach_escalates_one_working_day_later_across_the_weekend(friday_breach, minji):
    monday_ten = MONDAY + HOUR  # Friday 10:00-18:00 is eight working hours; the ninth is Monday 09:00-10:00
    assert Breach.objects.get().escalate_at == monday_ten

    for moment in (FRIDAY + 8 * HOUR, FRIDAY + DAY, FRIDAY + 2 * DAY, monday_ten - MINUTE):
        assert scan_sla(now=moment).escalations == 0
    assert scan_sla(now=monday_ten).escalations == 1
    assert [email.recipient for email in outbox(EmailKind.ESCALATION)] == [minji.email]


def test_a_breach_cleared_before_its_time_never_escalates(customer, manager, minji):
    issue = make_issue(customer=customer, at=FRIDAY, severity="red", owner=manager)
    assert scan_sla(now=FRIDAY + HOUR + MINUTE).breaches == 1
    services.acknowledge(issue=issue, by=manager, now=FRIDAY + 2 * HOUR)  # clears the breach

    assert scan_sla(now=FRIDAY + 4 * HOUR).escalations == 0
    assert outbox(EmailKind.ESCALATION) == []
    assert Breach.objects.get().escalated_at is None


def test_a_policy_may_set_its_own_escalation_window(customer, manager, minji):
    SlaPolicy.objects.filter(severity="red", tier=None).update(escalate_after=timedelta(minutes=30))
    make_issue(customer=customer, at=FRIDAY, severity="red", owner=manager)
    scan_sla(now=FRIDAY + HOUR)

    assert Breach.objects.get().escalate_at == FRIDAY + HOUR + 30 * MINUTE
    assert scan_sla(now=FRIDAY + HOUR + 30 * MINUTE).escalations == 1


def test_without_an_escalation_contact_the_active_superusers_hear_in_their_language(customer, manager):
    admin = UserFactory(username="root", first_name="Seo", last_name="Admin", is_superuser=True)
    Profile.objects.update_or_create(user=admin, defaults={"language": "ko"})
    UserFactory(username="retired", is_superuser=True, is_active=False)
    make_issue(customer=customer, at=FRIDAY, severity="red", owner=manager)
    scan_sla(now=FRIDAY + HOUR)

    assert scan_sla(now=FRIDAY + 3 * HOUR).escalations == 1
    (email,) = outbox(EmailKind.ESCALATION)
    assert email.recipient == admin.email
    assert "에스컬레이션" in email.subject
    assert "관리자(superuser)" in email.body_text
    assert Breach.objects.get().escalated_to == "Seo Admin"


def test_an_escalation_contact_who_left_the_team_is_not_told(team, customer, manager, minji):
    team.members.remove(minji)
    admin = UserFactory(username="root", is_superuser=True)
    make_issue(customer=customer, at=FRIDAY, severity="red", owner=manager)
    scan_sla(now=FRIDAY + HOUR)
    scan_sla(now=FRIDAY + 3 * HOUR)

    assert [email.recipient for email in outbox(EmailKind.ESCALATION)] == [admin.email]


# --- morning repeats ------------------------------------------------------------------------------


def test_owner_and_lead_are_reminded_on_working_mornings_in_their_digest(friday_breach, manager, lead):
    saturday, sunday = FRIDAY + DAY - HOUR, FRIDAY + 2 * DAY - HOUR
    for weekend_morning in (saturday + 5 * MINUTE, sunday + 5 * MINUTE):
        assert send_mornings(now=weekend_morning).folded == 0

    report = send_mornings(now=MONDAY + 5 * MINUTE)

    assert (report.digests, report.folded, report.reminders) == (2, 2, 0)
    for person in (manager, lead):
        (digest,) = outbox(EmailKind.DIGEST, person)
        assert f"ACME-{friday_breach.pk} Invoices missing" in digest.body_text
        assert "Still breached since Fri 6 Nov 2026, 10:00 (KST), day 4" in digest.body_text
        assert "day 4" in digest.body_html
    assert outbox(EmailKind.BREACH_REPEAT) == []
    breach = Breach.objects.get()
    assert (breach.repeats, breach.last_repeated_on) == (1, date(2026, 11, 9))
    event = IssueEvent.objects.get(kind=EventKind.BREACH_REPEATED)
    assert event_summary(event) == "Acknowledge clock still breached, day 4: Hana Lee, Jisoo Kim reminded this morning"

    assert send_mornings(now=MONDAY + 20 * MINUTE).folded == 0  # beat again: nothing twice
    assert send_mornings(now=MONDAY + DAY + 5 * MINUTE).folded == 2
    breach.refresh_from_db()
    assert breach.repeats == 2
    assert "day 5" in outbox(EmailKind.DIGEST, manager)[-1].body_text


def test_whoever_gets_no_digest_gets_one_reminder_email_instead(friday_breach, manager, lead):
    Profile.objects.update_or_create(user=manager, defaults={"receives_digest": False, "language": "ko"})

    report = send_mornings(now=MONDAY + 5 * MINUTE)
    send_mornings(now=MONDAY + 20 * MINUTE)

    assert (report.digests, report.folded, report.reminders) == (1, 1, 1)
    assert outbox(EmailKind.DIGEST, manager) == []
    (reminder,) = outbox(EmailKind.BREACH_REPEAT)
    breach = Breach.objects.get()
    assert reminder.recipient == manager.email
    assert reminder.dedupe_key == f"repeat:{breach.pk}:{manager.pk}:2026-11-09"
    assert reminder.subject == f"[ACME-{friday_breach.pk}] 기한 초과 4일째: Invoices missing"
    assert "오늘 고객에게 연락해 주세요" in reminder.body_text
    assert "day 4" in outbox(EmailKind.DIGEST, lead)[0].body_text  # the lead's came with the digest
    assert breach.repeats == 1


def test_the_reminder_email_reads_well_in_english(friday_breach, manager):
    Profile.objects.update_or_create(user=manager, defaults={"receives_digest": False})
    send_mornings(now=MONDAY + 5 * MINUTE)

    (reminder,) = outbox(EmailKind.BREACH_REPEAT)
    assert reminder.subject == f"[ACME-{friday_breach.pk}] Still overdue, day 4: Invoices missing"
    assert "is still breached: day 4 since Fri 6 Nov 2026, 10:00 (KST)." in reminder.body_text
    assert "Please write to the customer today" in reminder.body_text


def test_the_reminders_stop_the_day_the_breach_is_cleared(friday_breach, manager, lead):
    assert send_mornings(now=MONDAY + 5 * MINUTE).folded == 2
    services.acknowledge(issue=friday_breach, by=manager, now=MONDAY + 2 * HOUR)

    report = send_mornings(now=MONDAY + DAY + 5 * MINUTE)

    assert (report.folded, report.reminders) == (0, 0)
    assert Breach.objects.get().repeats == 1
    assert IssueEvent.objects.filter(kind=EventKind.BREACH_REPEATED).count() == 1


def test_a_breach_told_this_morning_is_not_repeated_the_same_morning(office_hours, customer, manager):
    make_issue(customer=customer, at=MONDAY - 2 * HOUR, severity="red", owner=manager)
    scan_sla(now=MONDAY - HOUR + MINUTE)  # the notice went at 08:01: today's news already

    assert send_mornings(now=MONDAY + 5 * MINUTE).folded == 0
    assert send_mornings(now=MONDAY + DAY + 5 * MINUTE).folded == 2  # owner and lead, day 2


def test_a_breach_beyond_the_digests_first_lines_gets_a_line_of_its_own(office_hours, customer, manager, lead,
                                                                       monkeypatch):
    monkeypatch.setattr("notifications.digests.LISTED", 1)
    breached_on_friday(customer, manager, 2)

    send_mornings(now=MONDAY + 5 * MINUTE)

    text = outbox(EmailKind.DIGEST, lead)[0].body_text
    assert text.count("Still breached since Fri 6 Nov 2026, 10:00 (KST), day 4") == 2
    assert "== Still breached\n" in text
    assert "Report 0" in text and "Report 1" in text


# --- the breach CSV -------------------------------------------------------------------------------


def test_the_breach_csv_shows_the_lead_told_the_escalation_and_the_mornings(friday_breach, team, minji):
    scan_sla(now=MONDAY + HOUR)
    send_mornings(now=MONDAY + 5 * MINUTE)

    header = breach_header()
    (row,) = list(breach_rows(team, date(2026, 11, 6), date(2026, 11, 6), Moment.of(team, MONDAY + 2 * HOUR)))
    columns = dict(zip(header, row, strict=True))
    assert columns["Lead told"] == "Jisoo Kim"
    assert columns["Escalated at"] == "2026-11-09 10:00"
    assert columns["Escalated to"] == "Minji Park"
    assert columns["Morning reminders"] == 1


# --- a fixed number of queries --------------------------------------------------------------------


def breached_on_friday(customer, owner, count: int) -> None:
    for n in range(count):
        make_issue(customer=customer, at=THURSDAY, severity="blue", owner=owner, title=f"Report {n}")
    scan_sla(now=FRIDAY)


def test_the_mornings_and_the_third_rung_take_a_fixed_number_of_queries(office_hours, customer, manager, minji,
                                                                       django_assert_max_num_queries):
    breached_on_friday(customer, manager, 2)
    with CaptureQueriesContext(connection) as few:
        assert send_mornings(now=MONDAY + 5 * MINUTE).folded == 4
    breached_on_friday(customer, manager, 6)  # breached on Friday too, by a later scan
    Breach.objects.update(last_repeated_on=None)
    OutboundEmail.objects.filter(kind=EmailKind.DIGEST).delete()
    with CaptureQueriesContext(connection) as many:
        assert send_mornings(now=MONDAY + 10 * MINUTE).folded == 16

    assert len(many) == len(few)
    with django_assert_max_num_queries(len(few)):
        assert send_mornings(now=MONDAY + DAY + 5 * MINUTE).folded == 16
    with django_assert_max_num_queries(12):
        assert escalate(now=MONDAY + HOUR, limit=100) == (8, 8)
