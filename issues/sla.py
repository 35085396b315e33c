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
from dataclasses import dataclass
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
# Counted in the running clock's calendar time: time spent waiting on the customer does not count.
UPDATE_CEILING = timedelta(days=7)


class Calendar(Protocol):
    """Answers "which instant is `duration` of counted time after `start`" and the reverse."""

    def add(self, start: datetime, duration: timedelta) -> datetime: ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta: ...


class AroundTheClock:
    """Every minute counts. Arithmetic is done in UTC so a DST change never shifts a due time."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start.astimezone(UTC) + duration

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(end.astimezone(UTC) - start.astimezone(UTC), ZERO)


AROUND_THE_CLOCK = AroundTheClock()


@dataclass(frozen=True)
class Rules:
    """What an SLA policy asks of one severity, already resolved for the calendar in use."""

    acknowledge_within: timedelta
    update_every: timedelta
    warn_at: float = 0.75
    auto_status_email: bool = True


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


def compute(facts: Facts, rules: Rules, calendar: Calendar = AROUND_THE_CLOCK) -> Clocks:
    update = update_clock(facts, rules, calendar)
    return Clocks(
        acknowledge=acknowledge_clock(facts, rules, calendar),
        update=update,
        auto_email_due_at=auto_email_due(update, facts.auto_emails_sent, facts.last_auto_email_at, rules, calendar),
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
    start = facts.update_started_at
    if not facts.is_open or facts.acknowledged_at is None or start is None:
        return STOPPED
    if facts.paused_at is not None:
        return Clock(started_at=start, paused=True)
    window = rules.update_every
    due = calendar.add(start, window + facts.paused_for)
    promised = facts.promised_update_at
    if promised is not None:
        # Time spent waiting on the customer moves the promise as it moves the policy's window.
        promised_due = promised if not facts.paused_for else calendar.add(promised, facts.paused_for)
        if promised_due < due:
            due = promised_due.astimezone(UTC)
            window = min(window, calendar.elapsed(start, promised))
    due, at_risk = within_ceiling(
        (due, min(calendar.add(start, window * rules.warn_at + facts.paused_for), due)),
        start=start.astimezone(UTC) + paused_calendar_time(facts), ceiling=UPDATE_CEILING, warn_at=rules.warn_at,
    )
    return Clock(started_at=start, due_at=due, at_risk_at=at_risk)


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
