"""The escalation ladder's timing, as pure functions: no database, and no ``now()`` inside.

A breached clock climbs three rungs: the owner (who stays the customer's contact), the team lead (added, never
instead), then, if the clock is still breached a further window later, the team's escalation contact. While
a breach stands, owner and lead are reminded each working morning (``notifications.repeats``); the day a
breach's notice went out counts as that day's reminder.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from issues import sla
from issues.models.choices import Severity

# A red issue is a company-level fire: the third rung comes two hours later, day or night.
RED_ESCALATES_AFTER = timedelta(hours=2)
# Any other severity waits one working day: nine working hours on the issue's business calendar (the default
# calendar's day), or a whole day around the clock where no calendar applies.
WORKING_DAY = timedelta(hours=9)
DAY_AROUND_THE_CLOCK = timedelta(days=1)


def escalate_at(breached_at: datetime, *, severity: str, escalate_after: timedelta | None,
                policy_calendar: sla.Calendar, business_calendar: sla.Calendar | None) -> datetime:
    """When the escalation contact hears of a breach recorded at `breached_at`, if it still stands.

    A window the policy sets counts on the policy's own calendar (working time for a business-time policy);
    the default counts red around the clock and the rest on the issue's business calendar, when it has one."""
    if escalate_after is not None:
        return policy_calendar.add(breached_at, escalate_after)
    if severity == Severity.RED:
        return sla.AROUND_THE_CLOCK.add(breached_at, RED_ESCALATES_AFTER)
    if business_calendar is None:
        return sla.AROUND_THE_CLOCK.add(breached_at, DAY_AROUND_THE_CLOCK)
    return business_calendar.add(breached_at, WORKING_DAY)


def breach_day(noticed_at: datetime, today: date, zone: ZoneInfo) -> int | None:
    """Which day of the breach `today` is (the day its notice went out is day 1), or None when today is that
    day or earlier: the notice was the day's reminder, a repeat would say it twice."""
    number = (today - noticed_at.astimezone(zone).date()).days + 1
    return number if number > 1 else None
