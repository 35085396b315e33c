"""The clock math on its own: no database, time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issues import sla
from issues.sla import AROUND_THE_CLOCK, ClockState, Facts, Rules

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# The seeded defaults, as they apply around the clock (no business calendar).
DEFAULT_RULES = {
    "red": Rules(acknowledge_within=HOUR, update_every=DAY),
    "orange": Rules(acknowledge_within=4 * HOUR, update_every=2 * DAY),
    "blue": Rules(acknowledge_within=DAY, update_every=7 * DAY),
    "green": Rules(acknowledge_within=DAY, update_every=7 * DAY),
}


def opened(at: datetime = T0) -> Facts:
    return Facts(is_open=True, ack_started_at=at)


def acknowledged(at: datetime, **changes) -> Facts:
    return Facts(is_open=True, ack_started_at=T0, acknowledged_at=at, update_started_at=at, **changes)


@pytest.mark.parametrize(
    ("severity", "ack_due", "ack_at_risk"),
    [
        ("red", T0 + HOUR, T0 + 45 * timedelta(minutes=1)),
        ("orange", T0 + 4 * HOUR, T0 + 3 * HOUR),
        ("blue", T0 + DAY, T0 + 18 * HOUR),
        ("green", T0 + DAY, T0 + 18 * HOUR),
    ],
)
def test_a_new_issue_must_be_acknowledged_within_its_severity_window(severity, ack_due, ack_at_risk):
    clocks = sla.compute(opened(), DEFAULT_RULES[severity])

    assert clocks.acknowledge.due_at == ack_due
    assert clocks.acknowledge.at_risk_at == ack_at_risk
    assert clocks.update.state(T0) is ClockState.STOPPED


@pytest.mark.parametrize(
    ("severity", "update_due", "update_at_risk"),
    [
        ("red", T0 + 2 * HOUR + DAY, T0 + 2 * HOUR + 18 * HOUR),
        ("orange", T0 + 2 * HOUR + 2 * DAY, T0 + 2 * HOUR + 36 * HOUR),
        ("blue", T0 + 2 * HOUR + 7 * DAY, T0 + 2 * HOUR + 126 * HOUR),
        ("green", T0 + 2 * HOUR + 7 * DAY, T0 + 2 * HOUR + 126 * HOUR),
    ],
)
def test_an_acknowledged_issue_owes_the_customer_news_every_update_window(severity, update_due, update_at_risk):
    clocks = sla.compute(acknowledged(T0 + 2 * HOUR), DEFAULT_RULES[severity])

    assert clocks.acknowledge.state(T0 + 3 * HOUR) is ClockState.STOPPED
    assert clocks.update.due_at == update_due
    assert clocks.update.at_risk_at == update_at_risk
    assert clocks.auto_email_due_at == update_due


def test_a_clock_goes_ok_then_at_risk_then_breached_at_the_due_minute():
    clock = sla.compute(opened(), DEFAULT_RULES["red"]).acknowledge

    assert clock.state(T0 + timedelta(minutes=44)) is ClockState.OK
    assert clock.state(T0 + timedelta(minutes=45)) is ClockState.AT_RISK
    assert clock.state(T0 + timedelta(minutes=59)) is ClockState.AT_RISK
    assert clock.state(T0 + timedelta(minutes=60)) is ClockState.BREACHED


def test_a_promise_earlier_than_the_policy_window_sets_the_due_time():
    promise = T0 + 3 * DAY
    clocks = sla.compute(acknowledged(T0, promised_update_at=promise), DEFAULT_RULES["blue"])

    assert clocks.update.due_at == promise
    assert clocks.update.at_risk_at == T0 + 3 * DAY * 0.75


def test_a_promise_later_than_the_policy_window_does_not_delay_the_update():
    clocks = sla.compute(acknowledged(T0, promised_update_at=T0 + 2 * DAY), DEFAULT_RULES["red"])

    assert clocks.update.due_at == T0 + DAY


def test_waiting_on_the_customer_pauses_the_update_clock():
    clocks = sla.compute(acknowledged(T0, paused_at=T0 + HOUR), DEFAULT_RULES["red"])

    assert clocks.update.state(T0 + 10 * DAY) is ClockState.PAUSED
    assert clocks.update.due_at is None
    assert clocks.auto_email_due_at is None


def test_resuming_keeps_the_time_that_was_left():
    # Paused after 6 of 24 hours, for 3 days: 18 hours remain after the pause ends.
    paused_for = 3 * DAY
    clocks = sla.compute(acknowledged(T0, paused_for=paused_for), DEFAULT_RULES["red"])

    resumed_at = T0 + 6 * HOUR + paused_for
    assert clocks.update.due_at == resumed_at + 18 * HOUR


def test_a_promise_is_kept_however_long_we_waited_on_the_customer():
    clocks = sla.compute(acknowledged(T0, promised_update_at=T0 + 2 * DAY, paused_for=DAY), DEFAULT_RULES["blue"])

    assert clocks.update.due_at == T0 + 2 * DAY


def test_a_wait_reminds_the_customer_after_three_days_and_ends_after_seven():
    clocks = sla.compute(acknowledged(T0, paused_at=T0), DEFAULT_RULES["red"])

    assert clocks.update.state(T0 + 6 * DAY) is ClockState.PAUSED
    assert clocks.waiting == sla.Waiting(remind_at=T0 + 3 * DAY, ends_at=T0 + 7 * DAY)


def test_a_promise_made_before_the_wait_ends_it_on_the_promised_date():
    clocks = sla.compute(acknowledged(T0, paused_at=T0, promised_update_at=T0 + 2 * DAY), DEFAULT_RULES["red"])

    assert clocks.waiting == sla.Waiting(remind_at=T0 + 2 * DAY, ends_at=T0 + 2 * DAY)


def test_a_breached_issue_moved_to_waiting_stays_breached():
    # Red: one day between updates. The owner let it run five days over, then waited on the customer.
    clocks = sla.compute(acknowledged(T0, paused_at=T0 + 6 * DAY), DEFAULT_RULES["red"])

    assert clocks.update.state(T0 + 7 * DAY) is ClockState.BREACHED
    assert clocks.update.due_at == T0 + DAY
    assert clocks.auto_email_due_at is not None


def test_after_a_wait_the_next_update_is_due_within_a_week_of_the_reminder():
    # Blue around the clock (7 days): asked at T0, reminded on day 3, no answer; the wait ended on day 7.
    facts = acknowledged(T0, paused_for=7 * DAY, paused_calendar_time=7 * DAY, last_heard_at=T0 + 3 * DAY)
    clocks = sla.compute(facts, DEFAULT_RULES["blue"])

    assert clocks.update.due_at == T0 + 10 * DAY


def test_automatic_emails_fall_due_one_update_window_apart():
    rules = DEFAULT_RULES["orange"]
    first = sla.compute(acknowledged(T0), rules)
    third = sla.compute(acknowledged(T0, auto_emails_sent=2), rules)

    assert first.auto_email_due_at == T0 + 2 * DAY
    assert third.auto_email_due_at == T0 + 2 * DAY + 2 * (2 * DAY)


def test_no_automatic_email_when_the_policy_does_not_send_them():
    rules = Rules(acknowledge_within=DAY, update_every=7 * DAY, auto_status_email=False)

    assert sla.compute(acknowledged(T0), rules).auto_email_due_at is None


def test_a_resolved_issue_has_no_running_clock():
    facts = Facts(is_open=False, ack_started_at=T0, acknowledged_at=T0, update_started_at=T0)
    clocks = sla.compute(facts, DEFAULT_RULES["red"])

    assert clocks.acknowledge.state(T0 + DAY) is ClockState.STOPPED
    assert clocks.update.state(T0 + DAY) is ClockState.STOPPED
    assert clocks.auto_email_due_at is None


def test_reopening_starts_a_fresh_acknowledge_clock():
    reopened_at = T0 + 10 * DAY
    clocks = sla.compute(opened(at=reopened_at), DEFAULT_RULES["red"])

    assert clocks.acknowledge.due_at == reopened_at + HOUR
    assert clocks.acknowledge.state(reopened_at) is ClockState.OK


def test_due_times_cross_a_dst_change_in_real_hours():
    # New York springs forward at 02:00 on 8 March 2026: 01:30 EST plus one hour is 03:30 EDT.
    start = datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK)
    clocks = sla.compute(opened(at=start), DEFAULT_RULES["red"])

    due = clocks.acknowledge.due_at
    assert due.tzinfo is not None
    assert due - start == HOUR
    assert due.astimezone(NEW_YORK).hour == 3 and due.astimezone(NEW_YORK).minute == 30


def test_a_day_across_the_autumn_change_is_twenty_four_real_hours():
    start = datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK)  # the clocks fall back on 1 November
    due = sla.compute(acknowledged(start), DEFAULT_RULES["red"]).update.due_at

    assert due.astimezone(UTC) - start.astimezone(UTC) == DAY
    assert due.astimezone(NEW_YORK).hour == 11


def test_the_latest_promise_is_one_update_window_away():
    assert sla.promise_limit(now=T0, rules=DEFAULT_RULES["orange"], calendar=AROUND_THE_CLOCK) == T0 + 2 * DAY


def test_no_promise_may_lie_beyond_a_week_even_when_the_window_is_longer():
    rules = Rules(acknowledge_within=DAY, update_every=10 * DAY)

    assert sla.promise_limit(now=T0, rules=rules, calendar=AROUND_THE_CLOCK) == T0 + sla.UPDATE_CEILING


def test_a_window_longer_than_a_week_is_cut_to_the_ceiling_and_warns_at_the_same_share():
    rules = Rules(acknowledge_within=3 * DAY, update_every=10 * DAY, warn_at=0.5)
    clocks = sla.compute(acknowledged(T0), rules)

    assert sla.compute(opened(), rules).acknowledge.due_at == T0 + DAY
    assert sla.compute(opened(), rules).acknowledge.at_risk_at == T0 + 12 * HOUR
    assert clocks.update.due_at == T0 + 7 * DAY
    assert clocks.update.at_risk_at == T0 + 3 * DAY + 12 * HOUR


def test_time_waiting_on_the_customer_moves_the_ceiling_in_calendar_time():
    # Working-time windows count 2 working hours of the pause; the customer kept us waiting 3 calendar days.
    rules = Rules(acknowledge_within=DAY, update_every=30 * DAY)
    facts = acknowledged(T0, paused_for=2 * HOUR, paused_calendar_time=3 * DAY)

    assert sla.compute(facts, rules).update.due_at == T0 + 3 * DAY + 7 * DAY


def test_automatic_emails_never_come_more_than_a_week_apart():
    rules = Rules(acknowledge_within=DAY, update_every=10 * DAY)
    sent_at = T0 + 7 * DAY + 5 * timedelta(minutes=1)
    facts = acknowledged(T0, auto_emails_sent=1, last_auto_email_at=sent_at)

    assert sla.compute(facts, rules).auto_email_due_at == sent_at + 7 * DAY


# --- properties ---------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.sampled_from([UTC, SEOUL, NEW_YORK])
)


def real(moment: datetime) -> datetime:
    """Python adds timedeltas to zoned datetimes in wall time; the clocks count real time."""
    return moment.astimezone(UTC)

windows = st.timedeltas(min_value=timedelta(minutes=15), max_value=7 * DAY)
pauses = st.timedeltas(min_value=timedelta(0), max_value=30 * DAY)
rules = st.builds(Rules, acknowledge_within=windows, update_every=windows,
                  warn_at=st.floats(min_value=0.05, max_value=0.99))


@given(start=instants, rule=rules, paused_for=pauses, promise_offset=st.none() | windows)
def test_the_update_clock_is_never_due_later_than_the_window_plus_paused_time(start, rule, paused_for, promise_offset):
    promise = real(start) + promise_offset if promise_offset is not None else None
    facts = Facts(is_open=True, ack_started_at=start, acknowledged_at=start, update_started_at=start,
                  promised_update_at=promise, paused_for=paused_for)
    clock = sla.compute(facts, rule).update

    assert clock.due_at <= real(start) + rule.update_every + paused_for
    assert clock.at_risk_at <= clock.due_at
    assert clock.due_at.utcoffset() is not None


@given(start=instants, rule=rules, promise_offset=windows)
def test_an_earlier_promise_always_wins(start, rule, promise_offset):
    promise = real(start) + promise_offset
    facts = Facts(is_open=True, ack_started_at=start, acknowledged_at=start, update_started_at=start,
                  promised_update_at=promise)
    due = sla.compute(facts, rule).update.due_at

    assert due == min(promise, real(start) + rule.update_every)


@given(start=instants, rule=rules, worked=st.floats(min_value=0, max_value=0.99), paused_for=pauses)
def test_pausing_and_resuming_keeps_the_remaining_time(start, rule, worked, paused_for):
    pause_began = real(start) + rule.update_every * worked
    remaining_before = real(start) + rule.update_every - pause_began
    facts = Facts(is_open=True, ack_started_at=start, acknowledged_at=start, update_started_at=start,
                  paused_for=paused_for)
    due = sla.compute(facts, rule).update.due_at

    resumed_at = pause_began + paused_for
    assert abs((due - resumed_at) - remaining_before) < timedelta(microseconds=2)


@given(start=instants, rule=rules, waited=pauses, paused_later=pauses, heard_after=st.none() | pauses,
       promise_offset=st.none() | windows)
def test_no_update_is_due_more_than_a_week_after_the_customer_last_heard_from_us(
        start, rule, waited, paused_later, heard_after, promise_offset):
    start = real(start)
    heard = start if heard_after is None else start + min(heard_after, waited)
    facts = Facts(is_open=True, ack_started_at=start, acknowledged_at=start, update_started_at=start,
                  paused_for=waited, paused_calendar_time=waited, last_heard_at=heard,
                  promised_update_at=start + promise_offset if promise_offset is not None else None,
                  paused_at=start + waited + paused_later if paused_later else None)
    clocks = sla.compute(facts, rule)

    if clocks.update.paused:
        # Waiting: a reminder and the end of the wait both come within the limit of the wait's start.
        assert facts.paused_at < clocks.waiting.remind_at <= clocks.waiting.ends_at <= facts.paused_at + sla.WAITING_LIMIT
    else:
        assert clocks.update.due_at <= heard + sla.UPDATE_CEILING
        assert clocks.waiting == sla.NOT_WAITING or facts.paused_at is not None


@given(start=instants, rule=rules, paused_after=pauses)
def test_waiting_never_hides_a_breach(start, rule, paused_after):
    start = real(start)
    unpaused = sla.compute(Facts(is_open=True, ack_started_at=start, acknowledged_at=start, update_started_at=start),
                           rule).update
    paused = sla.compute(Facts(is_open=True, ack_started_at=start, acknowledged_at=start, update_started_at=start,
                               paused_at=start + paused_after), rule).update

    if start + paused_after >= unpaused.due_at:
        assert paused.state(start + paused_after) is ClockState.BREACHED
        assert paused.due_at == unpaused.due_at
    else:
        assert paused.paused


@given(start=instants, rule=rules)
def test_the_acknowledge_clock_runs_its_window_in_real_time_up_to_the_one_day_ceiling(start, rule):
    clock = sla.compute(Facts(is_open=True, ack_started_at=start), rule).acknowledge

    assert clock.due_at - start == min(rule.acknowledge_within, sla.ACKNOWLEDGE_CEILING)
    assert start < clock.at_risk_at <= clock.due_at


def test_a_late_scan_keeps_the_automatic_emails_on_their_schedule():
    rules = DEFAULT_RULES["red"]
    facts = acknowledged(T0, auto_emails_sent=1, last_auto_email_at=T0 + DAY + timedelta(minutes=1))

    assert sla.compute(facts, rules).auto_email_due_at == T0 + 2 * DAY


def test_after_days_without_a_scan_the_next_automatic_email_is_the_next_slot_not_a_burst():
    rules = DEFAULT_RULES["red"]
    came_back = T0 + DAY + 30 * DAY + 12 * HOUR  # the scan was down for a month; the first email goes now
    facts = acknowledged(T0, auto_emails_sent=1, last_auto_email_at=came_back)

    assert sla.compute(facts, rules).auto_email_due_at == T0 + 32 * DAY
