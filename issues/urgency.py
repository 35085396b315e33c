"""How urgent a running clock looks, and how far away a moment is: pure, no database, `now` passed in.

A badge's colour follows the share of the clock's window still left, so a red issue with 58 minutes of
its hour left does not look like a blue one with 47 of its 48 hours left. The words on the badge say the
same thing (colour is never the only signal).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

# Shares of the window left where the colour changes: more than half is calm, a quarter to a half amber,
# less than a quarter red.
CALM_ABOVE = 0.5
AMBER_ABOVE = 0.25
# Whatever the share, a clock due within the hour is never calm, and a red issue's is red: "act now".
WITHIN_THE_HOUR = timedelta(hours=1)


class Band(enum.StrEnum):
    CALM = "calm"
    AMBER = "amber"
    RED = "red"
    BREACHED = "breached"


def share_left(*, started_at: datetime | None, due_at: datetime, now: datetime) -> float:
    """The part of the window from start to due still ahead, between 0 and 1 (calendar time)."""
    if now >= due_at:
        return 0.0
    if started_at is None or due_at <= started_at:
        return 1.0
    return min((due_at - now) / (due_at - started_at), 1.0)


def band(*, started_at: datetime | None, due_at: datetime, now: datetime, red_severity: bool = False) -> Band:
    """The colour of a running clock's badge."""
    if now >= due_at:
        return Band.BREACHED
    share = share_left(started_at=started_at, due_at=due_at, now=now)
    found = Band.CALM if share > CALM_ABOVE else Band.AMBER if share >= AMBER_ABOVE else Band.RED
    if due_at - now <= WITHIN_THE_HOUR:
        return Band.RED if red_severity else max(found, Band.AMBER, key=_ORDER.index)
    return found


_ORDER = [Band.CALM, Band.AMBER, Band.RED, Band.BREACHED]

