"""The two clocks of an issue, as pure functions: no database, and no ``now()`` inside.

The acknowledge clock runs from creation (or reopen) until the first acknowledgement. The update clock
("keep you in the loop") runs while an acknowledged issue is open; each human public update starts a new
cycle. Durations are counted on a ``Calendar``: around the clock, or working time only (see
``issues.calendars``). Callers store the instants this module returns in the issue's clock columns.

Whatever the calendar, no due time lies beyond a calendar ceiling: working-time windows are what teams
plan with, but the promise to the customer is in calendar days, and a run of holidays must not stretch
it (Chuseok and a weekend close a Korean office for nine days).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

ZERO = timedelta(0)

# The guarantee, in calendar time: a customer hears from us within a day of raising something, and is
# never left more than a week without news. Business-time windows apply only when they are earlier.
# One calendar day to acknowledge means a blue issue opened on Friday 17:00 before a long weekend is
# acknowledged by Saturday 17:00, holiday or not: otherwise it breaches then, though staff notices of
# non-red issues still wait for the team's working hours (issues.scan). An emailed issue's receipt tells
# the customer we have it at once, but is automatic: only an acknowledgement stops the clock.
ACKNOWLEDGE_CEILING = timedelta(days=1)
# Counted from the last message the customer had from us: the cycle's start (an update, an acknowledgement),
# or a reminder sent while we waited on them. Waiting time does not stretch it: a customer asked a question
# a week ago and reminded once is owed news a week after the reminder, whether or not they answered.
UPDATE_CEILING = timedelta(days=7)
# Waiting on the customer ends after this, answer or not: the update clock runs again and the owner is told.
# A promise made before the wait ends it earlier: the customer was told to expect news by then.
WAITING_LIMIT = timedelta(days=7)


class Calendar(Protocol):
    """Answers "which instant is `duration` of counted time after `start`" and the reverse."""

    def add(self, start: datetime, duration: timedelta) -> datetime: ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta: ...

    def add_working_days(self, start: datetime, days: int) -> datetime: ...


class AroundTheClock:
    """Every minute counts. Arithmetic is done in UTC so a DST change never shifts a due time."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start.astimezone(UTC) + duration

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(end.astimezone(UTC) - start.astimezone(UTC), ZERO)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Every day is a working day."""
        return start.astimezone(UTC) + timedelta(days=days)


AROUND_THE_CLOCK = AroundTheClock()


@dataclass(frozen=True)
class Rules:
    """What an SLA policy asks of one severity, already resolved for the calendar in use."""

    acknowledge_within: timedelta
    update_every: timedelta
    warn_at: float = 0.75
    auto_status_email: bool = True
    # Waiting on the customer: one reminder after this many working days of the calendar without an answer.
    waiting_reminder_days: int = 3


@dataclass(frozen=True)
class Facts:
    """What happened to an issue, as far as the clocks care."""

    is_open: bool
    ack_started_at: datetime
    acknowledged_at: datetime | None = None
    update_started_at: datetime | None = None
    promised_update_at: datetime | None = None
    paused_at: datetime | None = None
    # Time spent paused in this cycle, counted on the clock's calendar (working time on a business one) ...
    paused_for: timedelta = ZERO
    # ... and the same pauses in calendar time, for the ceiling. None: the same as paused_for, which is
    # exact around the clock.
    paused_calendar_time: timedelta | None = None
    auto_emails_sent: int = 0
    last_auto_email_at: datetime | None = None
    # When the customer last had a message from us about the issue (None: never, or not known).
    last_heard_at: datetime | None = None


class ClockState(enum.StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Clock:
    """One clock in one cycle. A stopped clock has no due time; a paused one keeps its start."""

    started_at: datetime | None = None
    due_at: datetime | None = None
    at_risk_at: datetime | None = None
    paused: bool = False

    def state(self, now: datetime) -> ClockState:
        if self.paused:
            return ClockState.PAUSED
        if self.due_at is None:
            return ClockState.STOPPED
        if now >= self.due_at:
            return ClockState.BREACHED
        if self.at_risk_at is not None and now >= self.at_risk_at:
            return ClockState.AT_RISK
        return ClockState.OK


STOPPED = Clock()


@dataclass(frozen=True)
class Clocks:
    acknowledge: Clock
    update: Clock
    # The next automatic "keep you in the loop" email, if the policy sends them.
    auto_email_due_at: datetime | None = None
    waiting: Waiting = field(default_factory=lambda: NOT_WAITING)


@dataclass(frozen=True)
class Waiting:
    """While we wait on the customer: when they get one reminder, and when the wait ends."""

    remind_at: datetime | None = None
    ends_at: datetime | None = None


NOT_WAITING = Waiting()


def compute(facts: Facts, rules: Rules, calendar: Calendar = AROUND_THE_CLOCK) -> Clocks:
    update = update_clock(facts, rules, calendar)
    return Clocks(
        acknowledge=acknowledge_clock(facts, rules, calendar),
        update=update,
        auto_email_due_at=auto_email_due(update, facts.auto_emails_sent, facts.last_auto_email_at, rules, calendar),
        waiting=waiting(facts, rules, calendar),
    )


def acknowledge_clock(facts: Facts, rules: Rules, calendar: Calendar) -> Clock:
    if not facts.is_open or facts.acknowledged_at is not None:
        return STOPPED
    start = facts.ack_started_at
    due, at_risk = within_ceiling(
        (calendar.add(start, rules.acknowledge_within), calendar.add(start, rules.acknowledge_within * rules.warn_at)),
        start=start, ceiling=ACKNOWLEDGE_CEILING, warn_at=rules.warn_at,
    )
    return Clock(started_at=start, due_at=due, at_risk_at=at_risk)


def update_clock(facts: Facts, rules: Rules, calendar: Calendar) -> Clock:
    # Once started, the cycle runs until the next human public update, whatever else happens: a customer's
    # answer restarts the acknowledge clock (a person must answer them) but must not stop the news they are
    # owed; otherwise an answer nobody replies to would silence the automatic emails for good.
    start = facts.update_started_at
    if not facts.is_open or start is None:
        return STOPPED
    window = rules.update_every
    due = calendar.add(start, window + facts.paused_for)
    promised = facts.promised_update_at
    if promised is not None and promised < due:
        # A promise is a date the customer was given: waiting on them does not move it.
        due = promised.astimezone(UTC)
        window = min(window, calendar.elapsed(start, promised))
    due, at_risk = within_ceiling(
        (due, min(calendar.add(start, window * rules.warn_at + facts.paused_for), due)),
        start=ceiling_start(facts), ceiling=UPDATE_CEILING, warn_at=rules.warn_at,
    )
    if facts.paused_at is not None and facts.paused_at < due:
        return Clock(started_at=start, paused=True)
    # Waiting never hides a breach: a cycle already overdue when the wait began stays overdue until a
    # person writes to the customer.
    return Clock(started_at=start, due_at=due, at_risk_at=at_risk)


def ceiling_start(facts: Facts) -> datetime:
    """Where the week of the update ceiling starts: the cycle's start, moved on by time spent waiting on
    the customer, but never past the last message they had from us."""
    start = facts.update_started_at.astimezone(UTC)
    moved = start + paused_calendar_time(facts)
    if facts.last_heard_at is None:
        return moved
    return min(moved, max(start, facts.last_heard_at.astimezone(UTC)))


def waiting(facts: Facts, rules: Rules, calendar: Calendar) -> Waiting:
    """While we wait on the customer (the update clock paused): one reminder after the rule's working days,
    and the end of the wait after WAITING_LIMIT, or at a promised date if that comes first. The reminder
    never comes after the end: the customer is never left a week without a message."""
    began = facts.paused_at
    if not facts.is_open or facts.update_started_at is None or began is None:
        return NOT_WAITING
    began = began.astimezone(UTC)
    ends = began + WAITING_LIMIT
    if facts.promised_update_at is not None and facts.promised_update_at > began:
        ends = min(ends, facts.promised_update_at.astimezone(UTC))
    remind = min(calendar.add_working_days(began, rules.waiting_reminder_days), ends)
    return Waiting(remind_at=remind, ends_at=ends)


def within_ceiling(window: tuple[datetime, datetime], *, start: datetime, ceiling: timedelta,
                   warn_at: float) -> tuple[datetime, datetime]:
    """(due, at risk) of a window, brought forward to the calendar ceiling counted from `start` when
    the window ends later: the owner is warned at the same share of whichever is shorter."""
    due, at_risk = window
    start = start.astimezone(UTC)  # calendar days are real time: a DST change neither adds nor removes any
    capped_due = start + ceiling
    if capped_due >= due:
        return due, at_risk
    return capped_due, min(at_risk, start + ceiling * warn_at)


def paused_calendar_time(facts: Facts) -> timedelta:
    return facts.paused_for if facts.paused_calendar_time is None else facts.paused_calendar_time


def auto_email_due(update: Clock, sent: int, last_sent_at: datetime | None, rules: Rules,
                   calendar: Calendar) -> datetime | None:
    """The k-th automatic email of a cycle falls due at due + (k - 1) * update_every.

    Slots that had already passed when the last one went out are skipped, so a scan that was down
    for days, or a severity change that moves the due time, never sends a burst to catch up.
    """
    if not rules.auto_status_email or update.due_at is None:
        return None
    slot = sent
    if last_sent_at is not None and last_sent_at >= update.due_at:
        slot = max(slot, calendar.elapsed(update.due_at, last_sent_at) // rules.update_every + 1)
    due = calendar.add(update.due_at, rules.update_every * slot)
    if last_sent_at is not None and slot > 0:
        # An automatic email is news too: the next one never comes more than a week after the last.
        due = min(due, last_sent_at.astimezone(UTC) + UPDATE_CEILING)
    return due


def promise_limit(*, now: datetime, rules: Rules, calendar: Calendar) -> datetime:
    """The latest next-update date an owner may promise: never later than the policy would allow,
    nor than the calendar ceiling."""
    return min(calendar.add(now, rules.update_every), now.astimezone(UTC) + UPDATE_CEILING)
