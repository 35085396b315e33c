"""Business calendars: only working hours count, holidays and weekends push due times out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from issues import sla
from issues.calendars import WorkingCalendar
from issues.defaults import DEFAULT_CALENDAR
from issues.models import BusinessCalendar, ClosedDay

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)
NINE_TO_SIX = {day: (time(9), time(18)) for day in range(5)}


def seoul(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def office(closed: frozenset[date] = frozenset()) -> WorkingCalendar:
    """The default calendar, as the migration creates it: Mon-Fri 09:00-18:00 in Seoul, KR holidays."""
    import holidays

    korea = holidays.country_holidays("KR")
    return WorkingCalendar(zone=SEOUL, hours=NINE_TO_SIX, is_closed=lambda day: day in korea or day in closed)


def test_working_time_runs_only_inside_opening_hours():
    calendar = office()

    assert calendar.add(seoul(2026, 11, 2, 10), 3 * HOUR) == seoul(2026, 11, 2, 13)
    assert calendar.add(seoul(2026, 11, 2, 16), 3 * HOUR) == seoul(2026, 11, 3, 10)  # 2 h today, 1 h tomorrow
    assert calendar.add(seoul(2026, 11, 2, 7), HOUR) == seoul(2026, 11, 2, 10)  # before opening: counts from 9


def test_a_blue_issue_opened_on_friday_afternoon_is_due_on_monday():
    # One working day (9 h) from Friday 15:00: 3 h on Friday, 6 h on Monday.
    assert office().add(seoul(2026, 11, 6, 15), 9 * HOUR) == seoul(2026, 11, 9, 15)


def test_chuseok_and_the_weekend_push_the_acknowledgement_to_the_following_monday():
    # Chuseok 2026 is Thursday 24 to Saturday 26 September; Wednesday 15:00 + 9 working hours.
    assert office().add(seoul(2026, 9, 23, 15), 9 * HOUR) == seoul(2026, 9, 28, 15)


def test_a_working_week_of_updates_is_45_working_hours():
    assert office().add(seoul(2026, 11, 2, 9), 45 * HOUR) == seoul(2026, 11, 6, 18)


def test_extra_closed_days_count_like_holidays():
    calendar = office(closed=frozenset({date(2026, 11, 3)}))

    assert calendar.add(seoul(2026, 11, 2, 17), 2 * HOUR) == seoul(2026, 11, 4, 10)


def test_elapsed_counts_working_hours_only():
    assert office().elapsed(seoul(2026, 11, 6, 17), seoul(2026, 11, 9, 10)) == 2 * HOUR


def test_the_next_working_hour_after_a_friday_evening_is_monday_morning():
    calendar = office()

    assert calendar.opens_at(seoul(2026, 11, 6, 20)) == seoul(2026, 11, 9, 9)
    assert calendar.opens_at(seoul(2026, 11, 9, 11)) == seoul(2026, 11, 9, 11)


def test_a_new_york_team_keeps_its_nine_to_five_across_the_spring_change():
    calendar = WorkingCalendar(zone=NEW_YORK, hours={day: (time(9), time(17)) for day in range(5)})
    friday = datetime(2026, 3, 6, 16, tzinfo=NEW_YORK)  # DST starts Sunday 8 March

    due = calendar.add(friday, 2 * HOUR)

    assert due.astimezone(NEW_YORK) == datetime(2026, 3, 9, 10, tzinfo=NEW_YORK)
    assert due.astimezone(UTC).hour == 14  # 10:00 EDT is UTC-4
    assert calendar.elapsed(friday, due) == 2 * HOUR


def test_the_clocks_use_the_business_calendar_through_the_same_interface():
    rules = sla.Rules(acknowledge_within=9 * HOUR, update_every=45 * HOUR)
    # Thursday 20:00: one working day is Friday 09:00-18:00, within the one-calendar-day ceiling.
    facts = sla.Facts(is_open=True, ack_started_at=seoul(2026, 11, 5, 20))

    clocks = sla.compute(facts, rules, office())

    assert clocks.acknowledge.due_at == seoul(2026, 11, 6, 18)
    assert clocks.acknowledge.at_risk_at == office().add(seoul(2026, 11, 5, 20), 9 * HOUR * 0.75)


@pytest.mark.django_db
def test_the_default_calendar_is_the_korean_working_week():
    calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)

    assert calendar.weekly_hours() == NINE_TO_SIX
    assert calendar.working_calendar().add(seoul(2026, 9, 23, 15), 9 * HOUR) == seoul(2026, 9, 28, 15)


@pytest.mark.django_db
def test_a_closed_day_from_the_admin_counts():
    calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    ClosedDay.objects.create(calendar=calendar, date=date(2026, 11, 3), name="Office move")

    assert calendar.working_calendar().add(seoul(2026, 11, 2, 17), 2 * HOUR) == seoul(2026, 11, 4, 10)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"mon_opens": time(18), "mon_closes": time(9)}, "mon_closes"),
        ({"tue_opens": time(9), "tue_closes": None}, "tue_closes"),
    ],
)
@pytest.mark.django_db
def test_a_calendar_that_makes_no_sense_is_refused_with_a_clear_message(changes, field):
    calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    for name, value in changes.items():
        setattr(calendar, name, value)

    with pytest.raises(ValidationError) as refused:
        calendar.full_clean()

    assert field in refused.value.message_dict


# --- properties ---------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                       timezones=st.sampled_from([SEOUL, NEW_YORK, UTC]))
durations = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=90))
zones = st.sampled_from([SEOUL, NEW_YORK])


def calendar_in(zone: ZoneInfo) -> WorkingCalendar:
    return office() if zone is SEOUL else WorkingCalendar(zone=zone, hours={d: (time(9), time(17)) for d in range(5)})


@given(start=moments, duration=durations, zone=zones)
def test_adding_working_time_then_measuring_it_gives_it_back(start, duration, zone):
    calendar = calendar_in(zone)

    due = calendar.add(start, duration)

    assert due > start
    assert calendar.elapsed(start, due) == duration


@given(start=moments, first=durations, second=durations, zone=zones)
def test_adding_in_two_steps_is_adding_once(start, first, second, zone):
    calendar = calendar_in(zone)

    assert calendar.add(calendar.add(start, first), second) == calendar.add(start, first + second)


@given(start=moments, duration=durations, zone=zones)
def test_a_due_time_always_falls_inside_working_hours(start, duration, zone):
    calendar = calendar_in(zone)

    due = calendar.add(start, duration).astimezone(zone)

    window = calendar.window(due.date())
    assert window is not None
    assert window[0] < due <= window[1]
