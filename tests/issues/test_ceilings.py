"""Calendar ceilings: working-time windows never stretch the customer's wait past a day (to be
acknowledged) or a week (between updates), whatever run of holidays closes the office.

The stories run on the default Seoul calendar across Chuseok 2025 (Friday 3 to Thursday 9 October: National
Foundation Day, the weekend, Chuseok, its substitute holiday and Hangul Day) and Seollal 2026 (Saturday 14
to Wednesday 18 February); the property runs on random calendars.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from issues import services, sla
from issues.calendars import WorkingCalendar
from issues.defaults import DEFAULT_CALENDAR
from issues.models import Breach, BusinessCalendar, Clock, Status
from issues.scan import scan_sla
from issues.sla import Facts, Rules
from tests.factories import ContactFactory, make_issue, wait_on_customer

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = 7 * DAY


def seoul(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


BEFORE_CHUSEOK = seoul(2025, 10, 2, 17)  # Thursday, the last working hour before nine closed days
BEFORE_SEOLLAL = seoul(2026, 2, 12, 10)  # Thursday, two working days before five closed days


@pytest.fixture
def office_hours(team):
    """The team works Mon-Fri 09:00-18:00 in Seoul with Korean public holidays: blue counts those hours."""
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    return team.calendar.working_calendar()


# --- the stories of the issue, on the default Seoul calendar --------------------------------------


@pytest.mark.django_db
def test_a_blue_issue_opened_before_chuseok_is_due_for_acknowledgement_within_a_day_not_on_10_october(
        office_hours, customer, manager):
    issue = make_issue(customer=customer, at=BEFORE_CHUSEOK, owner=manager)

    # Nine working hours would be Friday 10 October 17:00, eight days of silence.
    assert office_hours.add(BEFORE_CHUSEOK, 9 * HOUR) == seoul(2025, 10, 10, 17)
    assert issue.ack_due_at == seoul(2025, 10, 3, 17)
    assert issue.ack_at_risk_at == seoul(2025, 10, 3, 11)  # 0.75 of the day


@pytest.mark.django_db
def test_once_acknowledged_before_chuseok_the_first_update_is_due_within_a_week_not_14_days_later(
        office_hours, customer, manager):
    issue = make_issue(customer=customer, at=BEFORE_CHUSEOK, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=BEFORE_CHUSEOK)

    assert office_hours.add(BEFORE_CHUSEOK, 45 * HOUR) == seoul(2025, 10, 16, 17)  # the 45 working hours
    assert issue.update_due_at == seoul(2025, 10, 9, 17)
    assert issue.update_due_at - BEFORE_CHUSEOK == WEEK


@pytest.mark.django_db
def test_an_update_posted_before_seollal_is_next_due_a_week_later_not_on_tuesday_24_february(
        office_hours, customer, contact, manager):
    issue = make_issue(customer=customer, at=BEFORE_SEOLLAL - DAY, owner=manager, reporter=contact)
    services.post_update(issue=issue, body="We found the slow query.", public=True, by=manager, now=BEFORE_SEOLLAL)
    issue.refresh_from_db()

    assert office_hours.add(BEFORE_SEOLLAL, 45 * HOUR) == seoul(2026, 2, 24, 10)
    assert issue.update_due_at == seoul(2026, 2, 19, 10)


@pytest.mark.django_db
def test_an_issue_opened_on_a_tuesday_keeps_its_working_day_when_that_is_sooner(office_hours, customer, manager):
    issue = make_issue(customer=customer, at=seoul(2025, 10, 14, 20), owner=manager)

    assert issue.ack_due_at == seoul(2025, 10, 15, 18)  # 22 hours: the business window wins


@pytest.mark.django_db
def test_a_question_asked_before_chuseok_still_gets_news_within_a_week_of_asking(office_hours, customer, manager):
    # Acknowledged Monday 29 September 10:00; at 11:00 we ask a question ("send and wait"), and the customer
    # answers on Thursday 2 October 10:00: 71 hours of their time, 26 of them our working hours.
    issue = make_issue(customer=customer, at=seoul(2025, 9, 29, 9), owner=manager)
    services.acknowledge(issue=issue, by=manager, now=seoul(2025, 9, 29, 10))
    wait_on_customer(issue, by=manager, now=seoul(2025, 9, 29, 11))
    services.change_status(issue=issue, status=Status.IN_PROGRESS, by=manager, now=seoul(2025, 10, 2, 10))
    issue.refresh_from_db()

    assert (issue.update_paused_for, issue.update_paused_calendar_time) == (26 * HOUR, 71 * HOUR)
    # The working week after the question, plus the pause, would end on Thursday 16 October, past Chuseok.
    # But the question was the last message the customer had from us: they hear again within a week of it,
    # on Monday 6 October in the middle of Chuseok (the owner was told before the closure to write first).
    assert office_hours.add(seoul(2025, 9, 29, 11), 45 * HOUR + 26 * HOUR) > seoul(2025, 10, 15, 18)
    assert issue.update_due_at == seoul(2025, 10, 6, 11)


@pytest.mark.django_db
def test_a_question_asked_before_seollal_is_followed_up_a_week_later_not_on_the_third_working_day_after(
        office_hours, customer, contact, manager):
    # Thursday 12 February 10:00 we ask; the office is closed Saturday 14 to Wednesday 18. Three working days
    # would be Thursday 19, Friday 20 and Monday 23: eleven days of silence. The reminder comes with the end
    # of the wait instead, a week after the question, and the owner hears the same hour.
    issue = make_issue(customer=customer, at=BEFORE_SEOLLAL - DAY, owner=manager, reporter=contact)
    services.acknowledge(issue=issue, by=manager, now=BEFORE_SEOLLAL - DAY + HOUR)
    wait_on_customer(issue, by=manager, now=BEFORE_SEOLLAL)
    issue.refresh_from_db()
    assert issue.waiting_remind_at == issue.waiting_ends_at == seoul(2026, 2, 19, 10)

    assert scan_sla(now=seoul(2026, 2, 19, 9, 59)).waiting_reminders == 0
    report = scan_sla(now=seoul(2026, 2, 19, 10))
    assert (report.waiting_reminders, report.waits_ended) == (1, 1)
    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS
    assert issue.update_due_at == seoul(2026, 2, 26, 10)  # a week after the reminder, the customer's last news


@pytest.mark.django_db
def test_the_scan_breaches_at_the_ceiling_and_the_customer_hears_within_the_week(office_hours, customer, manager):
    minji = ContactFactory(customer=customer, email="minji@acme.example.com", language="ko")
    issue = make_issue(customer=customer, at=BEFORE_CHUSEOK, owner=manager, reporter=minji)
    services.acknowledge(issue=issue, by=manager, now=BEFORE_CHUSEOK)
    ceiling = BEFORE_CHUSEOK + WEEK

    before = scan_sla(now=ceiling - MINUTE)
    at = scan_sla(now=ceiling)
    issue.refresh_from_db()

    assert before.breaches == 0 and before.auto_emails == 0
    assert at.breaches == 1 and at.auto_emails == 1
    assert Breach.objects.get(issue=issue, clock=Clock.UPDATE).due_at == ceiling
    assert issue.customer_last_heard_at == ceiling
    assert issue.auto_email_due_at <= ceiling + WEEK  # and no longer than a week until the next one


@pytest.mark.django_db
def test_a_promise_past_the_week_is_refused_even_when_the_working_week_ends_later(
        office_hours, customer, contact, manager):
    issue = make_issue(customer=customer, at=BEFORE_SEOLLAL - DAY, owner=manager, reporter=contact)

    with pytest.raises(ValidationError):
        services.post_update(issue=issue, body="Next news after the holidays.", public=True, by=manager,
                             promised_update_at=seoul(2026, 2, 23, 10), now=BEFORE_SEOLLAL)
    event = services.post_update(issue=issue, body="Next news on Thursday.", public=True, by=manager,
                                 promised_update_at=seoul(2026, 2, 19, 10), now=BEFORE_SEOLLAL)
    assert event.issue.update_due_at == seoul(2026, 2, 19, 10)


# --- the property: random calendars, holiday runs, pauses and policies ------------------------------


@st.composite
def calendars(draw) -> WorkingCalendar:
    """Opening hours per weekday (some days closed, at least one open) and up to three holiday runs of
    up to 14 days, close to the instants the clocks will start from."""
    hours = {}
    for weekday in range(7):
        if draw(st.booleans()):
            opens = draw(st.integers(min_value=0, max_value=22))
            closes = draw(st.integers(min_value=opens + 1, max_value=23))
            hours[weekday] = (time(opens), time(closes, 59 if closes == 23 else 0))
    if not hours:
        hours[draw(st.integers(min_value=0, max_value=6))] = (time(9), time(18))
    closed = set()
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        first = date(2026, 1, 1) + timedelta(days=draw(st.integers(min_value=0, max_value=40)))
        closed |= {first + timedelta(days=n) for n in range(draw(st.integers(min_value=1, max_value=14)))}
    zone = draw(st.sampled_from([SEOUL, NEW_YORK, UTC]))
    return WorkingCalendar(zone=zone, hours=hours, is_closed=closed.__contains__)


# The seeded policies as they apply on a business calendar, and anything an admin might set.
SEEDED = [Rules(acknowledge_within=HOUR, update_every=DAY), Rules(acknowledge_within=4 * HOUR, update_every=2 * DAY),
          Rules(acknowledge_within=9 * HOUR, update_every=45 * HOUR)]
windows = st.timedeltas(min_value=15 * MINUTE, max_value=90 * HOUR)
policies = st.sampled_from(SEEDED) | st.builds(Rules, acknowledge_within=windows, update_every=windows,
                                               warn_at=st.floats(min_value=0.05, max_value=0.99))
starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 3, 31),
                     timezones=st.sampled_from([SEOUL, NEW_YORK]))


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), rules=policies, start=starts,
       pause=st.none() | st.tuples(st.timedeltas(min_value=timedelta(0), max_value=6 * DAY),
                                   st.timedeltas(min_value=MINUTE, max_value=20 * DAY)),
       promise=st.none() | st.timedeltas(min_value=HOUR, max_value=14 * DAY))
def test_no_due_time_ever_lies_beyond_its_calendar_ceiling(calendar, rules, start, pause, promise):
    start = start.astimezone(UTC)
    paused_for = paused_calendar_time = timedelta(0)
    if pause is not None:
        began = start + pause[0]
        paused_calendar_time = pause[1]
        paused_for = calendar.elapsed(began, began + paused_calendar_time)
    promised = start + promise if promise is not None else None
    facts = Facts(is_open=True, ack_started_at=start, acknowledged_at=start, update_started_at=start,
                  promised_update_at=promised, paused_for=paused_for, paused_calendar_time=paused_calendar_time)

    acknowledge = sla.compute(Facts(is_open=True, ack_started_at=start), rules, calendar).acknowledge
    update = sla.compute(facts, rules, calendar).update

    # The ceilings hold ...
    assert acknowledge.due_at <= start + sla.ACKNOWLEDGE_CEILING
    assert update.due_at <= start + paused_calendar_time + sla.UPDATE_CEILING
    # ... and the business window (or the promise) still decides when it is earlier.
    assert acknowledge.due_at == min(calendar.add(start, rules.acknowledge_within), start + sla.ACKNOWLEDGE_CEILING)
    business = calendar.add(start, rules.update_every + paused_for)
    if promised is not None:
        business = min(business, promised)  # a promise is a date: waiting does not move it
    assert update.due_at == min(business, start + paused_calendar_time + sla.UPDATE_CEILING)
    assert start < acknowledge.at_risk_at <= acknowledge.due_at
    assert update.at_risk_at <= update.due_at


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), rules=policies, start=starts, sent=st.integers(min_value=1, max_value=5),
       late=st.timedeltas(min_value=timedelta(0), max_value=10 * DAY))
def test_automatic_emails_and_promises_stay_within_a_week(calendar, rules, start, sent, late):
    start = start.astimezone(UTC)
    update = sla.compute(Facts(is_open=True, ack_started_at=start, acknowledged_at=start, update_started_at=start),
                         rules, calendar).update
    last_sent_at = update.due_at + late

    next_email = sla.auto_email_due(update, sent, last_sent_at, rules, calendar)
    limit = sla.promise_limit(now=start, rules=rules, calendar=calendar)

    assert last_sent_at < next_email <= last_sent_at + sla.UPDATE_CEILING
    assert limit == min(calendar.add(start, rules.update_every), start + sla.UPDATE_CEILING)
