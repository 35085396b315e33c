"""Working time: a calendar that counts only a team's working hours, for business-time SLA policies.

Pure like ``issues.sla``: no database. ``BusinessCalendar.working_calendar()`` builds one from the
admin's settings; the clock math takes it through the same ``add``/``elapsed`` interface as the
24x7 calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZERO = timedelta(0)
# However many days are closed, an SLA window never needs to look further ahead than this.
HORIZON_DAYS = 3660


def never_closed(day: date) -> bool:
    return False


class WorkingCalendar:
    """Each weekday's opening hours in one time zone, minus closed days (holidays, extra closures).

    Boundaries are local wall-clock times; durations are real elapsed time inside them, so a
    daylight-saving change neither adds nor removes working time.
    """

    def __init__(self, *, zone: ZoneInfo, hours: Mapping[int, tuple[time, time]],
                 is_closed: Callable[[date], bool] = never_closed) -> None:
        self.zone = zone
        self.hours = dict(hours)
        self.is_closed = is_closed

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when `duration` of working time has passed since `start`."""
        moment = start.astimezone(UTC)
        if duration <= ZERO:
            return moment
        remaining = duration
        for day in self._days_from(moment):
            window = self.window(day)
            if window is None:
                continue
            begin, end = max(moment, window[0]), window[1]
            if begin >= end:
                continue
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise ValueError("No working time within ten years: is every day of this calendar closed?")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = ZERO
        last_day = end.astimezone(self.zone).date()
        for day in self._days_from(start):
            if day > last_day:
                break
            window = self.window(day)
            if window is not None:
                total += max(min(end, window[1]) - max(start, window[0]), ZERO)
        return total

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same time of day `days` working days (days with working hours) after `start`'s day, kept
        within that day's hours: a reminder asked for three working days after Thursday 10:00 before a
        long weekend comes on the third working day after, at 10:00."""
        moment = start.astimezone(UTC)
        if days <= 0:
            return moment
        local = moment.astimezone(self.zone)
        counted = 0
        for day in self._days_from(moment):
            if day == local.date():
                continue
            window = self.window(day)
            if window is None:
                continue
            counted += 1
            if counted >= days:
                wanted = datetime.combine(day, local.time().replace(tzinfo=None), self.zone).astimezone(UTC)
                return min(max(wanted, window[0]), window[1])
        raise ValueError("No working time within ten years: is every day of this calendar closed?")

    def opens_at(self, moment: datetime) -> datetime:
        """The first working instant at or after `moment`."""
        moment = moment.astimezone(UTC)
        for day in self._days_from(moment):
            window = self.window(day)
            if window is not None and moment < window[1]:
                return max(moment, window[0])
        raise ValueError("No working time within ten years: is every day of this calendar closed?")

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """That day's working hours as UTC instants, or None when closed."""
        hours = self.hours.get(day.weekday())
        if hours is None or self.is_closed(day):
            return None
        opens, closes = hours
        return (datetime.combine(day, opens, self.zone).astimezone(UTC),
                datetime.combine(day, closes, self.zone).astimezone(UTC))

    def _days_from(self, moment: datetime):
        day = moment.astimezone(self.zone).date()
        for offset in range(HORIZON_DAYS):
            yield day + timedelta(days=offset)
