"""When staff reminders and breach notices go out, and what the timeline says about it.

The team works Monday to Friday, 09:00-18:00 in Seoul. A staff email found outside those hours may wait
for the working day, but an at-risk reminder only if it still arrives before the clock is due, and a
breach notice never longer than MAX_BREACH_NOTICE_HOLD (red never waits). When an email waits, the
timeline says for when; when it goes at once, it says the owner was reminded.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issues.defaults import DEFAULT_CALENDAR
from issues.models import BusinessCalendar, EventKind, Issue, IssueEvent
from issues.scan import MAX_BREACH_NOTICE_HOLD, scan_sla
from issues.templatetags.inloop import event_summary
from notifications.models import EmailKind, OutboundEmail
from tests.factories import make_issue

SEOUL = ZoneInfo("Asia/Seoul")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
SUNDAY_EVENING = datetime(2026, 11, 8, 18, 10, tzinfo=SEOUL)
THURSDAY_LATE_MORNING = datetime(2026, 11, 5, 11, 15, tzinfo=SEOUL)
FRIDAY_NINE = datetime(2026, 11, 6, 9, 0, tzinfo=SEOUL)

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_hours(team):
    """The team works Mon-Fri 09:00-18:00 in Seoul: blue and green count those hours."""
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    return team.calendar


def emails_about(issue: Issue, kind: str) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(issue=issue, kind=kind).order_by("id"))


def timeline_line(issue: Issue, kind: str, language: str = "en") -> str:
    event = issue.events.get(kind=kind)
    with translation.override(language):
        return event_summary(event)


def test_a_round_the_clock_reminder_due_sunday_night_goes_at_once_not_on_monday_morning(
        office_hours, customer, manager):
    orange = make_issue(customer=customer, at=SUNDAY_EVENING, severity="orange", owner=manager)
    assert orange.ack_due_at == datetime(2026, 11, 8, 22, 10, tzinfo=SEOUL)  # four hours, round the clock
    at_risk = orange.ack_at_risk_at + MINUTE  # Sunday 21:11: the team is off until Monday 09:00

    assert scan_sla(now=at_risk).warnings == 1

    (reminder,) = emails_about(orange, EmailKind.AT_RISK)
    assert reminder.next_attempt_at == at_risk < orange.ack_due_at
    assert "queued_for" not in orange.events.get(kind=EventKind.CLOCK_WARNED).data
    assert timeline_line(orange, EventKind.CLOCK_WARNED) == "Acknowledge clock at risk: the owner was reminded"
    assert timeline_line(orange, EventKind.CLOCK_WARNED, "ko").endswith("담당자에게 알림을 보냈습니다")


def test_a_business_time_reminder_waits_for_the_working_day_when_that_still_comes_before_the_due_time(
        office_hours, customer, manager):
    blue = make_issue(customer=customer, at=THURSDAY_LATE_MORNING, severity="blue", owner=manager)
    # Nine working hours: 6 h 45 on Thursday, 2 h 15 on Friday; at risk when Thursday's work ends.
    assert blue.ack_due_at == datetime(2026, 11, 6, 11, 15, tzinfo=SEOUL)
    assert blue.ack_at_risk_at == datetime(2026, 11, 5, 18, 0, tzinfo=SEOUL)

    assert scan_sla(now=blue.ack_at_risk_at + MINUTE).warnings == 1

    (reminder,) = emails_about(blue, EmailKind.AT_RISK)
    assert reminder.next_attempt_at == FRIDAY_NINE < blue.ack_due_at
    assert timeline_line(blue, EventKind.CLOCK_WARNED) == (
        "Acknowledge clock at risk: reminder queued for 2026-11-06 09:00 KST")
    korean = timeline_line(blue, EventKind.CLOCK_WARNED, "ko")
    with translation.override("ko"):
        expected = translation.gettext("%(clock)s at risk: reminder queued for %(queued_for)s") % {
            "clock": translation.gettext("Acknowledge clock"), "queued_for": "2026-11-06 09:00 KST"}
    assert korean == expected and "the owner was reminded" not in korean


def test_a_business_time_reminder_goes_at_once_when_the_teams_working_day_would_come_after_the_due_time(
        office_hours, customer, manager):
    # The customer's clock also counts Saturdays: its blue issue opened on Friday is due on Saturday,
    # while the team is back only on Monday.
    customer.calendar = BusinessCalendar.objects.create(
        name="Acme, Mon-Sat", holiday_country="",
        **{f"{day}_{edge}": hour for day in ("mon", "tue", "wed", "thu", "fri", "sat")
           for edge, hour in (("opens", time(9)), ("closes", time(18)))})
    customer.save()
    friday_late_morning = THURSDAY_LATE_MORNING + timedelta(days=1)
    blue = make_issue(customer=customer, at=friday_late_morning, severity="blue", owner=manager)
    assert blue.ack_due_at == datetime(2026, 11, 7, 11, 15, tzinfo=SEOUL)

    assert scan_sla(now=blue.ack_at_risk_at + MINUTE).warnings == 1  # Friday 18:01

    (reminder,) = emails_about(blue, EmailKind.AT_RISK)
    assert reminder.next_attempt_at == blue.ack_at_risk_at + MINUTE
    assert timeline_line(blue, EventKind.CLOCK_WARNED) == "Acknowledge clock at risk: the owner was reminded"


def test_the_issue_page_tells_when_a_held_reminder_goes(office_hours, customer, manager, client):
    blue = make_issue(customer=customer, at=THURSDAY_LATE_MORNING, severity="blue", owner=manager)
    scan_sla(now=blue.ack_at_risk_at + MINUTE)
    client.force_login(manager)

    page = client.get(blue.get_absolute_url()).content.decode()

    assert "reminder queued for 2026-11-06 09:00 KST" in page
    assert "the owner was reminded" not in page


def test_a_breach_notice_waits_for_a_working_morning_but_never_more_than_twelve_hours_and_red_never_waits(
        office_hours, customer, manager, lead):
    monday_evening = datetime(2026, 11, 2, 20, 0, tzinfo=SEOUL)
    night = make_issue(customer=customer, at=monday_evening, severity="orange", owner=manager)  # due 00:00
    friday_evening = datetime(2026, 11, 6, 17, 0, tzinfo=SEOUL)
    weekend = make_issue(customer=customer, at=friday_evening, severity="orange", owner=manager)  # due 21:00
    red = make_issue(customer=customer, at=friday_evening + 3 * HOUR, severity="red", owner=manager)

    assert scan_sla(now=night.ack_due_at + MINUTE).breaches == 1
    friday_scan = weekend.ack_due_at + MINUTE
    assert scan_sla(now=friday_scan).breaches == 2

    tuesday_nine = datetime(2026, 11, 3, 9, 0, tzinfo=SEOUL)
    assert {row.next_attempt_at for row in emails_about(night, EmailKind.BREACH)} == {tuesday_nine}
    assert {row.next_attempt_at for row in emails_about(weekend, EmailKind.BREACH)} == {
        friday_scan + MAX_BREACH_NOTICE_HOLD}  # Saturday 09:01, not Monday
    assert {row.next_attempt_at for row in emails_about(red, EmailKind.BREACH)} == {friday_scan}
    assert len(emails_about(weekend, EmailKind.BREACH)) == 2  # the owner and the lead
    assert timeline_line(night, EventKind.CLOCK_BREACHED) == (
        "Acknowledge clock ran out: notice to the owner and the team lead queued for 2026-11-03 09:00 KST")
    assert timeline_line(red, EventKind.CLOCK_BREACHED) == (
        "Acknowledge clock ran out: the owner and the team lead were told")
    assert timeline_line(red, EventKind.CLOCK_BREACHED, "ko").endswith("담당자와 팀장에게 알렸습니다")


OPENINGS = st.datetimes(min_value=datetime(2026, 11, 2), max_value=datetime(2026, 11, 16),
                        timezones=st.just(SEOUL))
SCAN_DELAYS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=20))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opened=OPENINGS, severity=st.sampled_from(["red", "orange", "blue", "green"]),
       warn_delay=SCAN_DELAYS, breach_delay=SCAN_DELAYS)
def test_whenever_the_scan_runs_no_reminder_arrives_after_the_due_time_and_no_notice_waits_past_the_cap(
        office_hours, customer, manager, lead, opened, severity, warn_delay, breach_delay):
    issue = make_issue(customer=customer, at=opened, severity=severity, owner=manager)
    due = issue.ack_due_at
    warn_scan = min(issue.ack_at_risk_at + warn_delay, due - MINUTE)
    scan_sla(now=max(warn_scan, issue.ack_at_risk_at))
    breach_scan = due + breach_delay
    scan_sla(now=breach_scan)

    (reminder,) = emails_about(issue, EmailKind.AT_RISK)
    assert reminder.next_attempt_at == reminder.created_at or reminder.next_attempt_at < due
    notices = emails_about(issue, EmailKind.BREACH)
    assert notices and all(breach_scan <= row.next_attempt_at <= breach_scan + MAX_BREACH_NOTICE_HOLD
                           for row in notices)
    if severity == "red":
        assert {row.next_attempt_at for row in notices} == {breach_scan}
    # The timeline tells the same time the outbox keeps, in every case.
    for row, kind in ((reminder, EventKind.CLOCK_WARNED), (notices[0], EventKind.CLOCK_BREACHED)):
        event: IssueEvent = issue.events.get(kind=kind)
        held = row.next_attempt_at != row.created_at
        assert ("queued_for" in event.data) == held
        assert ("queued for" in timeline_line(issue, kind)) == held
