"""Periods that people choose by date: a report's first and last day, the admin's drill-down by year.

A date field accepts any day from 0001-01-01 to 9999-12-31, but the day before the first or after the
last is no date at all, and a local midnight at either end may be no UTC instant (SQLite stores UTC).
The one clamp below keeps every period inside the days whose edges exist in every time zone; no
Inloop data lies outside them, so a clamped period reads exactly what the asked-for one would.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The local midnight that starts EARLIEST_DAY, and the one that ends LATEST_DAY, are UTC instants in
# every time zone (offsets stay within a day).
EARLIEST_DAY = date.min + timedelta(days=1)
LATEST_DAY = date.max - timedelta(days=2)


def clamp(day: date) -> date:
    return min(max(day, EARLIEST_DAY), LATEST_DAY)


def local_span(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants from the start of `first` to the start of the day after `last` (local days in `zone`,
    both included), clamped to the days whose edges exist."""
    start = datetime.combine(clamp(first), time(0), zone)
    end = datetime.combine(clamp(last) + timedelta(days=1), time(0), zone)
    return start, end


def has_edges(year: int) -> bool:
    """Whether a whole year's first and last day lie inside the clamp (the admin's drill-down asks for
    the year, the month or the day after the chosen one)."""
    return EARLIEST_DAY.year < year < LATEST_DAY.year
