"""The overdue dashboard's read side: what is breached or due soon in one team, by severity, owner and customer.

Every number is counted by the database from the stored due columns against `now`, so the page is exact
between two scans. Each section is one grouped query over the team's open issues, whatever their number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Min, Q, QuerySet

from issues.models import Issue, Promise, Severity, Status, Team
from issues.promises import NOTHING_SETTLED, Shares, shares_by
from issues.selectors import (
    SOON,
    due_by,
    end_of_day,
    last_heard,
    overdue,
    reachable,
    team_people,
    team_zone,
    update_due_by,
)
from issues.text import person_name

# The inbox's `clock` filter values, so each count links to exactly the issues it counts.
BREACHED, DUE_24H, DUE_TODAY, WAITING = "breached", "due_24h", "due_today", "waiting"


@dataclass(frozen=True)
class Moment:
    """The instants one team's numbers are counted against."""

    now: datetime
    soon: datetime
    day_ends_at: datetime
    zone: ZoneInfo

    @classmethod
    def of(cls, team: Team, now: datetime) -> Moment:
        zone = team_zone(team)
        return cls(now=now, soon=now + SOON, day_ends_at=end_of_day(now, zone), zone=zone)


def teams_led_by(user) -> QuerySet:
    """The teams whose dashboard the user may open: those they lead; every team for superusers."""
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    teams = Team.objects.all() if user.is_superuser else Team.objects.filter(lead=user)
    return teams.select_related("calendar").order_by("name")


def open_issues_of(team: Team) -> QuerySet:
    return Issue.objects.filter(customer__team=team).open()


def counted(moment: Moment, measures: tuple[str, ...] = (BREACHED, DUE_24H, DUE_TODAY)) -> dict:
    """The counts of the "Now" section as aggregates: breached, due within 24 h, updates due today.
    A paused clock has no due time, so an issue waiting on the customer is in none of them."""
    conditions = {
        BREACHED: overdue(moment.now),
        DUE_24H: due_by(moment.now, moment.soon),
        DUE_TODAY: update_due_by(moment.now, moment.day_ends_at),
    }
    return {measure: Count("pk", filter=conditions[measure]) for measure in measures}


def quiet_since() -> Min:
    """When the customer last heard from us about the quietest open issue (never: since it was opened).
    Waiting on the customer counts too: our promise of news every week holds while we wait on them. The
    customers page reads the same expression (``selectors.last_heard``)."""
    return Min(last_heard())


def waiting_tile(team: Team) -> Tile:
    """Issues waiting on the customer, per severity, and since when the longest wait has run."""
    rows = {row["severity"]: row for row in open_issues_of(team).filter(status=Status.WAITING_ON_CUSTOMER)
            .values("severity").annotate(count=Count("pk"), since=Min("update_paused_at")).order_by()}
    started = [row["since"] for row in rows.values() if row["since"] is not None]
    return Tile(WAITING, sum(row["count"] for row in rows.values()),
                [(severity, rows[severity]["count"] if severity in rows else 0) for severity in Severity.values],
                since=min(started) if started else None)


@dataclass(frozen=True)
class Tile:
    """One count of the "Now" section, in total and per severity (most severe first)."""

    measure: str
    total: int
    by_severity: list[tuple[str, int]]
    # The waiting tile: since when the longest wait on the customer has run.
    since: datetime | None = None


def now_tiles(team: Team, moment: Moment) -> list[Tile]:
    rows = {row["severity"]: row for row in
            open_issues_of(team).values("severity").annotate(**counted(moment)).order_by()}
    return [
        Tile(measure, sum(row[measure] for row in rows.values()),
             [(severity, rows[severity][measure] if severity in rows else 0) for severity in Severity.values])
        for measure in (BREACHED, DUE_24H, DUE_TODAY)
    ] + [waiting_tile(team)]


@dataclass(frozen=True)
class OwnerRow:
    owner: object | None  # a user; None is the "unassigned" row
    open: int = 0
    breached: int = 0
    due_24h: int = 0
    oldest_unacknowledged: datetime | None = None
    quiet_since: datetime | None = None
    promises: Shares = NOTHING_SETTLED  # the share of their promises kept (issues.promises)


def by_owner(team: Team, moment: Moment, *, promises: bool = True) -> list[OwnerRow]:
    """Every person of the team (those with nothing open too), anyone else still owning an issue, and the
    unassigned issues last. Busiest first: breached, then due within 24 h, then open issues. `promises`: with
    the share of promises kept (one query more; the owners CSV does without)."""
    stats = {
        row.pop("owner"): row
        for row in open_issues_of(team).values("owner").annotate(
            open=Count("pk"), **counted(moment, (BREACHED, DUE_24H)),
            oldest_unacknowledged=Min("ack_started_at", filter=Q(acknowledged_at=None)), quiet_since=quiet_since(),
        ).order_by()
    }
    people = {person.pk: person for person in team_people([team.pk])}
    former = set(stats) - set(people) - {None}
    if former:
        people |= get_user_model().objects.in_bulk(former)
    rows = sorted(
        (OwnerRow(person, **stats.get(pk, {})) for pk, person in people.items()),
        key=lambda row: (-row.breached, -row.due_24h, -row.open, display_name(row.owner).lower()),
    )
    rows = [*rows, OwnerRow(None, **stats.get(None, {}))]
    if not promises:
        return rows
    return with_promises(rows, team, moment, "owner", key=lambda row: row.owner.pk if row.owner else None)


def display_name(user) -> str:
    return person_name(user)


@dataclass(frozen=True)
class CustomerRow:
    name: str
    slug: str
    code: str
    open: int
    breached: int
    quiet_since: datetime | None
    next_promise: datetime | None
    reachable: bool = True
    tier: str = ""  # the customer's SLA tier; "" on the base policies
    promises: Shares = NOTHING_SETTLED  # the share of promises kept (issues.promises); by keyword only


def by_customer(team: Team, moment: Moment) -> list[CustomerRow]:
    """Customers with open issues, the longest silence first (customers only waited on come last)."""
    rows = open_issues_of(team).annotate(reachable=reachable()).values(
        "customer__name", "customer__slug", "customer__code", "customer__tier__name", "reachable").annotate(
        open=Count("pk"), breached=Count("pk", filter=overdue(moment.now)), quiet_since=quiet_since(),
        next_promise=Min("promised_update_at", filter=Q(promised_update_at__gt=moment.now)),
    ).order_by(F("quiet_since").asc(nulls_last=True), "customer__name")
    return with_promises([CustomerRow(row["customer__name"], row["customer__slug"], row["customer__code"],
                        row["open"], row["breached"], row["quiet_since"], row["next_promise"], row["reachable"],
                        row["customer__tier__name"] or "") for row in rows],
                         team, moment, "issue__customer__slug", key=lambda row: row.slug)


def with_promises(rows: list, team: Team, moment: Moment, group: str, *, key) -> list:
    """The rows with the share of promises kept (per owner, per customer) over 30 and 90 days: one query."""
    shares = shares_by(Promise.objects.filter(issue__customer__team=team), group, now=moment.now)
    return [replace(row, promises=shares.get(key(row), NOTHING_SETTLED)) for row in rows]


def deadline_risks(team: Team, moment: Moment) -> QuerySet:
    """Open issues at risk of missing the customer's deadline: it is a working day away or less (the warning
    instant, ``issues.deadlines``, has come) or has passed. Nearest deadline first."""
    return (open_issues_of(team).filter(customer_deadline__isnull=False)
            .filter(Q(deadline_warn_at__lte=moment.now) | Q(customer_deadline__lte=moment.now))
            .select_related("customer", "owner").order_by("customer_deadline", "pk"))
