"""Compliance: how often a team kept its clocks.

A clock cycle is **met** when it ended without a breach and **missed** when it breached. A met cycle counts
on the day it ended (an acknowledge cycle at the acknowledgement, or the resolution of an issue never
acknowledged; an update cycle at the next human public update, or the resolution); a missed cycle counts on
the day it breached (its Breach row), so a cycle still running counts only once it has breached.
Share met = met / (met + missed), per clock and severity, over the last 7, 30 and 90 local days.

Ends are counted from the timeline (the clock events the services write); met = ended minus those whose
breach was cleared when they ended; missed = Breach rows. Grouped queries bucketed by local day in the
database, and the medians. History changes slowly and reading 90 days of a busy team's timeline takes a
few hundred milliseconds, so the dashboard keeps each team's report for five minutes
(`cached_compliance`) and says when it was computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import time_ns

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import RowNumber, TruncDate

from issues.models import Breach, Clock, EventKind, Issue, IssueEvent, Severity, Team
from issues.reporting.counts import Moment

COMPLIANCE_CACHE_SECONDS = 300
COMPLIANCE_VERSION_KEY = "inloop:compliance:version"
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
    computed_at: datetime


def first_day(moment: Moment, days: int) -> date:
    return moment.now.astimezone(moment.zone).date() - timedelta(days=days - 1)


def day_start(day: date, moment: Moment) -> datetime:
    return datetime.combine(day, time(0), moment.zone)


def cycle_ends(team: Team, since: datetime, until: datetime) -> Iterable[dict]:
    """Clock cycles of the team's issues that ended, per local day and severity, both clocks in one row.

    Read from the clock events the services write. An acknowledge cycle ends when its clock stops (the
    acknowledgement, or a resolution before one). An update cycle ends when its clock stops (resolution)
    or starts afresh; every acknowledgement starts an update clock without ending one, so starts minus
    acknowledgements are the restarts by a human public update. A clock that starts paused (the issue
    waits on the customer) is told from a pause by the acknowledgement or update at the same moment: a
    second, small query, so the large one stays a plain grouped scan."""
    events = IssueEvent.objects.filter(issue__customer__team=team, at__gte=since, at__lte=until)
    per_day = {"day": TruncDate("at", tzinfo=since.tzinfo), "severity": F("issue__severity")}
    running = events.filter(kind__in=[EventKind.CLOCK_STOPPED, EventKind.CLOCK_STARTED, EventKind.ACKNOWLEDGED])
    at_the_same_moment = IssueEvent.objects.filter(issue=OuterRef("issue"), at=OuterRef("at"),
                                                   kind__in=[EventKind.ACKNOWLEDGED, EventKind.PUBLIC_UPDATE])
    started_paused = events.filter(Exists(at_the_same_moment), kind=EventKind.CLOCK_PAUSED, new_value=Clock.UPDATE)
    return [
        *running.values(**per_day).annotate(**{
            Clock.ACKNOWLEDGE: Count("pk", filter=Q(kind=EventKind.CLOCK_STOPPED, new_value=Clock.ACKNOWLEDGE)),
            Clock.UPDATE: Count("pk", filter=Q(kind__in=[EventKind.CLOCK_STOPPED, EventKind.CLOCK_STARTED],
                                               new_value=Clock.UPDATE))
            - Count("pk", filter=Q(kind=EventKind.ACKNOWLEDGED)),
        }).order_by(),
        *started_paused.values(**per_day).annotate(**{Clock.ACKNOWLEDGE: Value(0), Clock.UPDATE: Count("pk")})
        .order_by(),
    ]


def cleared_breaches(team: Team, since: datetime, until: datetime) -> Iterable[dict]:
    """Breached cycles that ended, per local day, clock and severity (the issue's, as for the ends): the
    service that ends a cycle clears its breach at that very moment."""
    return Breach.objects.filter(issue__customer__team=team, cleared_at__gte=since, cleared_at__lte=until).values(
        day=TruncDate("cleared_at", tzinfo=since.tzinfo), issue_severity=F("issue__severity"), cycle=F("clock"),
    ).annotate(count=Count("pk")).order_by()


def breaches(team: Team, since: datetime, until: datetime) -> Iterable[dict]:
    """Missed cycles per local day of the breach, clock and severity (the severity when it breached)."""
    return Breach.objects.filter(issue__customer__team=team, breached_at__gte=since, breached_at__lte=until).values(
        "severity", day=TruncDate("breached_at", tzinfo=since.tzinfo), cycle=F("clock"),
    ).annotate(count=Count("pk")).order_by()


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
    """The compliance table (per severity and in total, per window) and the daily trend of the last 30 days."""
    since = day_start(first_day(moment, max(WINDOWS)), moment)
    shares: dict[tuple[date, str, str], Share] = {}
    for row in cycle_ends(team, since, moment.now):
        for clock in Clock.values:
            shares.setdefault((row["day"], clock, row["severity"]), Share()).met += row[clock]
    for row in cleared_breaches(team, since, moment.now):  # ended, but not in time
        shares[(row["day"], row["cycle"], row["issue_severity"])].met -= row["count"]
    for row in breaches(team, since, moment.now):
        shares.setdefault((row["day"], row["cycle"], row["severity"]), Share()).missed += row["count"]
    medians = medians_to_acknowledge(team, [day_start(first_day(moment, days), moment) for days in WINDOWS],
                                     moment.now)

    def total(clock: str, severities: Iterable[str], days: Iterable[date]) -> Share:
        wanted_days, wanted_severities = set(days), set(severities)
        return sum((share for (day, cycle, severity), share in shares.items()
                    if cycle == clock and severity in wanted_severities and day in wanted_days), Share())

    def window(days: int) -> list[date]:
        start = first_day(moment, days)
        return [start + timedelta(days=n) for n in range(days)]

    rows = [
        SeverityCompliance(
            severity,
            [total(Clock.ACKNOWLEDGE, severities, window(days)) for days in WINDOWS],
            [total(Clock.UPDATE, severities, window(days)) for days in WINDOWS],
            [median.get(severity) for median in medians] if severity else [],
        )
        for severity, severities in [*((s, [s]) for s in Severity.values), (None, Severity.values)]
    ]
    trend = [TrendDay(day, *(total(clock, Severity.values, [day]) for clock in (Clock.ACKNOWLEDGE, Clock.UPDATE)))
             for day in window(TREND_DAYS)]
    return Compliance(rows, trend, moment.now)


def cached_compliance(team: Team, moment: Moment) -> Compliance:
    """The team's compliance as computed at most five minutes ago (a new local day starts afresh), and never
    older than the last breach recorded: the scan bumps the version in every key (`forget_compliance`)."""
    day = moment.now.astimezone(moment.zone).date()
    version = cache.get(COMPLIANCE_VERSION_KEY, 0)
    key = f"inloop:compliance:{version}:{team.pk}:{moment.zone.key}:{day.isoformat()}"
    report = cache.get(key)
    if report is None:
        report = compliance(team, moment)
        cache.set(key, report, COMPLIANCE_CACHE_SECONDS)
    return report


def forget_compliance() -> None:
    """Breaches were recorded: every cached report is stale. One counter in the key drops them all at once."""
    try:
        cache.incr(COMPLIANCE_VERSION_KEY)
    except ValueError:  # no counter yet, or it was evicted: start from the clock so no old key comes back
        cache.set(COMPLIANCE_VERSION_KEY, time_ns(), timeout=None)
