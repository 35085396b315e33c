"""The compliance of each team, kept day by day as it happens (``ComplianceDay``), so the dashboard reads a few
hundred rows instead of a year of timeline.

What counts is what the timeline says (``ends``, ``cleared`` and ``missed`` below read it; ``compliance.recount``
is the dashboard's figures straight from them, the oracle the roll-ups are tested against). Each change writes
its own rows in its own transaction, beside the events it writes:

- a cycle ends (``cycles_ended``, from ``services._change``: the same transitions the clock events record);
- breaches are cleared (``breaches_cleared``, from ``services._clear_breaches``) or recorded (``breaches_recorded``,
  from the scan: one grouped query and one insert per batch);
- a severity changes (``regraded``): the timeline counts an issue's ended cycles under its present severity,
  so its history moves with it;
- an action is undone (``taken_back``): its events are deleted and its breaches open again.

The rows are deltas: a change only ever inserts (no row shared by two transactions is locked, so concurrent
changes never wait on each other nor deadlock), and a read adds them up. When a team's rows pile up, the
reader merges them into one row per day, clock and severity (``compact``). What the days were counted on
(the team's zone, its customers) is kept in ``ComplianceBasis``; when it changes, the team's rows are recounted
from the timeline before they are read (``ensure_counted``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from issues import sla
from issues.models import (
    Breach,
    Clock,
    ComplianceBasis,
    ComplianceDay,
    Customer,
    EventKind,
    Issue,
    IssueEvent,
    Team,
)
from issues.selectors import team_zone
from issues.timeline import clock_transition

# A team's rows are merged once a read finds more than this many (a busy team's day writes a few hundred).
COMPACT_AFTER = 2000
Key = tuple[int, date, str, str]  # team, day, clock, severity
Delta = Counter  # of "ended", "cleared", "missed"


# --- what the timeline says ---------------------------------------------------------------------------


def ends(events: QuerySet, zone: ZoneInfo) -> list[dict]:
    """Clock cycles that ended, per local day and severity (the issue's), both clocks in one row.

    An acknowledge cycle ends when its clock stops (the acknowledgement, or a resolution before one). An
    update cycle ends when its clock stops (resolution) or starts afresh; every acknowledgement starts an
    update clock without ending one, so starts minus acknowledgements are the restarts by a human public
    update. A clock that starts paused (the issue waits on the customer) is told from a pause by the
    acknowledgement or update at the same moment: a second, small query, so the large one stays a plain
    grouped scan."""
    per_day = {"day": TruncDate("at", tzinfo=zone), "severity": F("issue__severity")}
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


def cleared(breaches: QuerySet, zone: ZoneInfo) -> Iterable[dict]:
    """Breached cycles that ended, per local day, clock and severity (the issue's, as for the ends): the
    service that ends a cycle clears its breach at that very moment."""
    return breaches.filter(cleared_at__isnull=False).values(
        day=TruncDate("cleared_at", tzinfo=zone), issue_severity=F("issue__severity"), cycle=F("clock"),
    ).annotate(count=Count("pk")).order_by()


def missed(breaches: QuerySet, zone: ZoneInfo) -> Iterable[dict]:
    """Missed cycles per local day of the breach, clock and severity (the severity when it breached)."""
    return breaches.values("severity", day=TruncDate("breached_at", tzinfo=zone), cycle=F("clock")).annotate(
        count=Count("pk")).order_by()


def timeline_deltas(team: int, events: QuerySet, breaches: QuerySet, zone: ZoneInfo, *,
                    missed_too: bool = True) -> dict[Key, Delta]:
    """What the timeline says, as rows to write: one team's events and breaches (those of any period)."""
    deltas: dict[Key, Delta] = {}
    for row in ends(events, zone):
        for clock in Clock.values:
            _add(deltas, (team, row["day"], clock, row["severity"]), ended=row[clock])
    for row in cleared(breaches, zone):
        _add(deltas, (team, row["day"], row["cycle"], row["issue_severity"]), cleared=row["count"])
    if missed_too:
        for row in missed(breaches, zone):
            _add(deltas, (team, row["day"], row["cycle"], row["severity"]), missed=row["count"])
    return deltas


# --- as it happens ------------------------------------------------------------------------------------


def cycles_ended(issue: Issue, *, before: sla.Clocks, at: datetime) -> None:
    """Count the cycles a change of one issue ended, as its clock events say it (``ends``): called by the
    change, after it wrote them. Most changes end nothing and cost nothing; one that ends a cycle costs two
    small queries (the team's zone, the insert)."""
    after = issue.stored_clocks()
    ack = clock_transition(before.acknowledge, after.acknowledge)
    update = clock_transition(before.update, after.update)
    acknowledged = ack == EventKind.CLOCK_STOPPED and issue.acknowledged_at is not None  # its ACKNOWLEDGED event
    ended = {Clock.ACKNOWLEDGE: int(ack == EventKind.CLOCK_STOPPED),
             Clock.UPDATE: int(update in (EventKind.CLOCK_STOPPED, EventKind.CLOCK_STARTED)) - int(acknowledged)}
    if update == EventKind.CLOCK_PAUSED and (acknowledged or IssueEvent.objects.filter(
            issue=issue, at=at, kind__in=[EventKind.ACKNOWLEDGED, EventKind.PUBLIC_UPDATE]).exists()):
        ended[Clock.UPDATE] += 1  # a clock that starts paused, at an acknowledgement or a public update
    if any(ended.values()):
        _write_for(issue, at, {clock: Counter(ended=count) for clock, count in ended.items()})


def breaches_cleared(issue: Issue, clock: str, count: int, *, at: datetime) -> None:
    """The change that ended a breached cycle cleared its breach: it ended, but not in time."""
    _write_for(issue, at, {clock: Counter(cleared=count)})


def breaches_recorded(issue_ids: list[int], clock: str, *, at: datetime) -> None:
    """The scan recorded breaches at ``at`` for these issues: one grouped query, one insert. Counts the Breach
    rows there are (a cycle already on record is not recorded twice), with the severity each breached at."""
    rows = list(Breach.objects.filter(issue__in=issue_ids, clock=clock, breached_at=at)
                .values("severity", team=F("issue__customer__team")).annotate(count=Count("pk")).order_by())
    zones = _zones({row["team"] for row in rows})
    deltas: dict[Key, Delta] = {}
    for row in rows:
        _add(deltas, (row["team"], _day(at, zones[row["team"]]), clock, row["severity"]), missed=row["count"])
    _write(deltas)


def regraded(issue: Issue, *, previous: str) -> None:
    """The issue's severity changed from ``previous``: the timeline counts its ended cycles (and their cleared
    breaches) under the present severity, so its whole history moves there. Its breaches keep theirs."""
    team = issue.customer.team_id
    zone = _zones({team})[team]
    history = timeline_deltas(team, IssueEvent.objects.filter(issue=issue), Breach.objects.filter(issue=issue), zone,
                              missed_too=False)
    deltas: dict[Key, Delta] = {}
    for (_team, day, clock, _severity), delta in history.items():
        _add(deltas, (team, day, clock, previous), ended=-delta["ended"], cleared=-delta["cleared"])
        _add(deltas, (team, day, clock, issue.severity), ended=delta["ended"], cleared=delta["cleared"])
    _write(deltas)


def taken_back(events: list[int], breaches: list[int], *, cleared_at: datetime) -> None:
    """An action is undone: its events are about to be deleted and the breaches it cleared (at ``cleared_at``)
    to open again. Called just before, while the timeline still says what they counted."""
    written = IssueEvent.objects.filter(pk__in=events)
    reopened = Breach.objects.filter(pk__in=breaches, cleared_at=cleared_at)
    teams = set(written.values_list("issue__customer__team", flat=True)) | set(
        reopened.values_list("issue__customer__team", flat=True))
    zones = _zones(teams)
    deltas: dict[Key, Delta] = {}
    for team in teams:
        theirs = timeline_deltas(team, written.filter(issue__customer__team=team),
                                 reopened.filter(issue__customer__team=team), zones[team], missed_too=False)
        for key, delta in theirs.items():
            _add(deltas, key, ended=-delta["ended"], cleared=-delta["cleared"])
    _write(deltas)


def _write_for(issue: Issue, at: datetime, by_clock: dict[str, Delta]) -> None:
    team = issue.customer.team_id
    day = _day(at, _zones({team})[team])
    deltas: dict[Key, Delta] = {}
    for clock, delta in by_clock.items():
        _add(deltas, (team, day, clock, issue.severity), **delta)
    _write(deltas)


def _add(deltas: dict[Key, Delta], key: Key, **counts: int) -> None:
    deltas.setdefault(key, Counter()).update(counts)


def _write(deltas: dict[Key, Delta]) -> None:
    """One insert for all rows that say something. Inserts only: see the module's docstring."""
    ComplianceDay.objects.bulk_create([
        ComplianceDay(team_id=team, day=day, clock=clock, severity=severity, ended=delta["ended"],
                      cleared=delta["cleared"], missed=delta["missed"])
        for (team, day, clock, severity), delta in sorted(deltas.items()) if any(delta.values())
    ])


def _zones(teams: set[int]) -> dict[int, ZoneInfo]:
    """Each team's zone (``selectors.team_zone``), in one query."""
    return {team.pk: team_zone(team) for team in Team.objects.filter(pk__in=teams).select_related("calendar")}


def _day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


# --- reading ------------------------------------------------------------------------------------------


def shares(team: Team, first: date, last: date) -> dict[tuple[date, str, str], tuple[int, int]]:
    """(met, missed) per local day, clock and severity, between two days (both included): one query over a few
    hundred rows. Merges the team's rows afterwards when they piled up."""
    rows = list(ComplianceDay.objects.filter(team=team, day__gte=first, day__lte=last)
                .values("day", "clock", "severity")
                .annotate(ended=Sum("ended"), cleared=Sum("cleared"), missed=Sum("missed"), rows=Count("pk"))
                .order_by())
    if sum(row["rows"] for row in rows) > COMPACT_AFTER:
        compact(team)
    return {(row["day"], row["clock"], row["severity"]): (row["ended"] - row["cleared"], row["missed"])
            for row in rows}


def compact(team: Team) -> bool:
    """Merge the team's rows into one per day, clock and severity. Rows inserted meanwhile are not among
    those read, so they stay as they are; when another reader merged first (fewer rows deleted than read),
    this one gives up and changes nothing."""
    with transaction.atomic():
        rows = list(ComplianceDay.objects.filter(team=team).values_list("pk", "day", "clock", "severity", "ended",
                                                                        "cleared", "missed"))
        deltas: dict[Key, Delta] = {}
        for _pk, day, clock, severity, ended_, cleared_, missed_ in rows:
            _add(deltas, (team.pk, day, clock, severity), ended=ended_, cleared=cleared_, missed=missed_)
        deleted, _ = ComplianceDay.objects.filter(pk__in=[row[0] for row in rows]).delete()
        if deleted != len(rows):
            transaction.set_rollback(True)
            return False
        _write(deltas)
    return True


# --- recounting from the timeline ---------------------------------------------------------------------


def customers_digest(team: Team) -> str:
    ids = Customer.objects.filter(team=team).order_by("pk").values_list("pk", flat=True)
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()


def ensure_counted(team: Team, zone: ZoneInfo) -> None:
    """Recount the team's days from the timeline unless they were counted in this zone on these customers:
    at the first look, and after the team's zone changed or a customer moved in or out (two small queries
    otherwise)."""
    basis = ComplianceBasis.objects.filter(team=team).values_list("zone", "customers").first()
    digest = customers_digest(team)
    if basis != (zone.key, digest):
        recount_team(team, zone, unless_counted=digest)


def recount_team(team: Team, zone: ZoneInfo, *, unless_counted: str = "") -> None:
    """Count the team's whole history from the timeline into its days, in its zone, in one transaction.
    ``unless_counted``: the digest of the team's customers; then not when the days already were counted in
    this zone on these customers (another reader did it while this one waited for the lock).

    On PostgreSQL the table is locked against writers meanwhile (a change that wrote its events but not yet
    its rows waits, and then adds them to the recounted days; one that wrote both is in the recount), so
    nothing is counted twice or lost; SQLite has one writer at a time anyway. Readers never wait."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {ComplianceDay._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        if unless_counted and ComplianceBasis.objects.filter(team=team, zone=zone.key,
                                                             customers=unless_counted).exists():
            return
        ComplianceDay.objects.filter(team=team).delete()
        _write(timeline_deltas(team.pk, IssueEvent.objects.filter(issue__customer__team=team),
                               Breach.objects.filter(issue__customer__team=team), zone))
        ComplianceBasis.objects.bulk_create(
            [ComplianceBasis(team=team, zone=zone.key, customers=unless_counted or customers_digest(team),
                             counted_at=timezone.now())],
            update_conflicts=True, unique_fields=["team"], update_fields=["zone", "customers", "counted_at"])


def recount_all() -> int:
    """Every team's days, recounted (``manage.py recount_compliance``). Returns how many teams."""
    teams = list(Team.objects.select_related("calendar"))
    for team in teams:
        recount_team(team, team_zone(team))
    return len(teams)
