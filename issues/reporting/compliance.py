"""Compliance: how often a team kept its clocks.

A clock cycle is **met** when it ended without a breach and **missed** when it breached. A met cycle counts
on the day it ended (an acknowledge cycle at the acknowledgement, or the resolution of an issue never
acknowledged; an update cycle at the next human public update, or the resolution); a missed cycle counts on
the day it breached (its Breach row), so a cycle still running counts only once it has breached.
Share met = met / (met + missed), per clock and severity, over the last 7, 30 and 90 local days.

The counts come from the team's daily roll-ups (``issues.reporting.rollups``), which every change keeps in
its own transaction: one query over a few hundred rows, so the figures are live (nothing is cached). The
medians come from the issues themselves, exact (``medians_to_acknowledge``). ``recount`` computes the same
report from the timeline, as the dashboard did before the roll-ups: the oracle they are tested against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber

from issues.models import Breach, Clock, Issue, IssueEvent, Severity, Team
from issues.reporting import rollups
from issues.reporting.counts import Moment

WINDOWS = (7, 30, 90)
TREND_DAYS = 30


@dataclass
class Share:
    met: int = 0
    missed: int = 0

    def __add__(self, other: Share) -> Share:
        return Share(self.met + other.met, self.missed + other.missed)

    @property
    def total(self) -> int:
        return self.met + self.missed

    @property
    def percent(self) -> int | None:
        """Whole percent, rounded down so 99.6 % never shows as a perfect 100 %; None without cycles."""
        return self.met * 100 // self.total if self.total else None


@dataclass(frozen=True)
class SeverityCompliance:
    severity: str | None  # None: all severities
    acknowledge: list[Share]  # one per window
    update: list[Share]
    median_acknowledge: list[timedelta | None] = field(default_factory=list)


@dataclass(frozen=True)
class TrendDay:
    day: date
    acknowledge: Share
    update: Share


@dataclass(frozen=True)
class Compliance:
    rows: list[SeverityCompliance]
    trend: list[TrendDay]


def first_day(moment: Moment, days: int) -> date:
    return moment.now.astimezone(moment.zone).date() - timedelta(days=days - 1)


def day_start(day: date, moment: Moment) -> datetime:
    return datetime.combine(day, time(0), moment.zone)


def cycle_ends(team: Team, since: datetime, until: datetime) -> Iterable[dict]:
    """Clock cycles of the team's issues that ended between two instants, per local day and severity."""
    return rollups.ends(IssueEvent.objects.filter(issue__customer__team=team, at__gte=since, at__lte=until),
                        since.tzinfo)


def cleared_breaches(team: Team, since: datetime, until: datetime) -> Iterable[dict]:
    """Breached cycles that ended between two instants, per local day, clock and severity."""
    return rollups.cleared(Breach.objects.filter(issue__customer__team=team, cleared_at__gte=since,
                                                 cleared_at__lte=until), since.tzinfo)


def breaches(team: Team, since: datetime, until: datetime) -> Iterable[dict]:
    """Missed cycles between two instants, per local day of the breach, clock and severity."""
    return rollups.missed(Breach.objects.filter(issue__customer__team=team, breached_at__gte=since,
                                                breached_at__lte=until), since.tzinfo)


class Median(Aggregate):
    """PostgreSQL's exact median of a duration, in seconds."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()


def acknowledgements(team: Team, since: datetime, until: datetime) -> QuerySet:
    took = ExpressionWrapper(F("acknowledged_at") - F("ack_started_at"), output_field=DurationField())
    return Issue.objects.filter(customer__team=team, acknowledged_at__gte=since,
                                acknowledged_at__lte=until).annotate(took=took)


def medians_to_acknowledge(team: Team, starts: list[datetime], until: datetime) -> list[dict[str, timedelta]]:
    """Per window start and severity, the median of acknowledged_at - ack_started_at over the acknowledgements
    in the window. PostgreSQL computes all windows in one aggregate query; elsewhere each window is one query
    whose window functions return only the middle row or two per severity."""
    if connection.vendor == "postgresql":
        rows = acknowledgements(team, min(starts), until).values("severity").annotate(**{
            f"median_{n}": Median("took", filter=Q(acknowledged_at__gte=start)) for n, start in enumerate(starts)
        }).order_by()
        return [{row["severity"]: timedelta(seconds=row[f"median_{n}"]) for row in rows
                 if row[f"median_{n}"] is not None} for n in range(len(starts))]
    return [_middle_values(acknowledgements(team, start, until)) for start in starts]


def _middle_values(acknowledged: QuerySet) -> dict[str, timedelta]:
    middle = acknowledged.annotate(
        position=Window(RowNumber(), partition_by=[F("severity")], order_by=[F("took").asc(), F("pk").asc()]),
        size=Window(Count("pk"), partition_by=[F("severity")]),
    ).filter(position__gte=(F("size") + 1) / 2, position__lte=(F("size") + 2) / 2).values_list("severity", "took")
    values: dict[str, list[timedelta]] = {}
    for severity, value in middle:
        values.setdefault(severity, []).append(value)
    return {severity: sum(pair, timedelta(0)) / len(pair) for severity, pair in values.items()}


def compliance(team: Team, moment: Moment) -> Compliance:
    """The compliance table (per severity and in total, per window) and the daily trend of the last 30 days,
    from the team's roll-ups: live, in four small queries (five when the team's rows need merging)."""
    rollups.ensure_counted(team, moment.zone)
    today = moment.now.astimezone(moment.zone).date()
    counted = rollups.shares(team, first_day(moment, max(WINDOWS)), today)
    return _report(team, moment, {key: Share(met, missed) for key, (met, missed) in counted.items()})


def recount(team: Team, moment: Moment) -> Compliance:
    """The same report counted from the timeline up to ``moment.now``, as the dashboard once did on every look
    (a few hundred milliseconds for a busy team): the oracle the roll-ups are tested against."""
    since = day_start(first_day(moment, max(WINDOWS)), moment)
    shares: dict[tuple[date, str, str], Share] = {}
    for row in cycle_ends(team, since, moment.now):
        for clock in Clock.values:
            shares.setdefault((row["day"], clock, row["severity"]), Share()).met += row[clock]
    for row in cleared_breaches(team, since, moment.now):  # ended, but not in time
        shares.setdefault((row["day"], row["cycle"], row["issue_severity"]), Share()).met -= row["count"]
    for row in breaches(team, since, moment.now):
        shares.setdefault((row["day"], row["cycle"], row["severity"]), Share()).missed += row["count"]
    return _report(team, moment, shares)


def _report(team: Team, moment: Moment, shares: dict[tuple[date, str, str], Share]) -> Compliance:
    """The table and the trend from the shares per local day, clock and severity, in one pass over them."""
    medians = medians_to_acknowledge(team, [day_start(first_day(moment, days), moment) for days in WINDOWS],
                                     moment.now)
    today = moment.now.astimezone(moment.zone).date()
    sums: dict[tuple[str, str | None, int], Share] = defaultdict(Share)  # clock, severity (None: all), window
    daily: dict[tuple[str, date], Share] = defaultdict(Share)
    for (day, clock, severity), share in shares.items():
        age = (today - day).days
        for days in (days for days in WINDOWS if 0 <= age < days):
            sums[clock, severity, days] += share
            sums[clock, None, days] += share
        if 0 <= age < TREND_DAYS:
            daily[clock, day] += share
    rows = [
        SeverityCompliance(
            severity,
            [sums[Clock.ACKNOWLEDGE, severity, days] for days in WINDOWS],
            [sums[Clock.UPDATE, severity, days] for days in WINDOWS],
            [median.get(severity) for median in medians] if severity else [],
        )
        for severity in [*Severity.values, None]
    ]
    first = first_day(moment, TREND_DAYS)
    trend = [TrendDay(day, daily[Clock.ACKNOWLEDGE, day], daily[Clock.UPDATE, day])
             for day in (first + timedelta(days=n) for n in range(TREND_DAYS))]
    return Compliance(rows, trend)
