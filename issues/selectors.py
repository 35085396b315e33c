"""Read-side queries for the pages: each returns a queryset or a few rows in a fixed number of queries.

Nothing here writes. Every query starts from what the user may see (``visible_to``), so a page built on
these selectors cannot show another team's issue by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from issues import search
from issues.away import covered_by, owner_away_until
from issues.models import (
    IS_OPEN,
    Contact,
    Customer,
    Issue,
    IssueEvent,
    Severity,
    Status,
    Team,
)
from issues.promises import customer_share_columns
from notifications.emails import receives

# Stands in for "no due time" so LEAST and ORDER BY treat a stopped clock alike on SQLite and PostgreSQL
# (PostgreSQL's LEAST skips NULLs, SQLite's MIN returns NULL).
NEVER = datetime(9999, 12, 31, tzinfo=UTC)

RED_HOT, BREACHED, AT_RISK, ON_TIME = 0, 1, 2, 3
# A red issue this close to a due time (or past it) goes above everything else: a fire comes first.
RED_HOT_WITHIN = timedelta(hours=1)
# "At risk" on the dashboard, in the inbox's "due within 24 h" filter and in digests: due this soon.
SOON = timedelta(hours=24)


def _earliest(*fields: str) -> Least:
    return Least(*(Coalesce(field, Value(NEVER), output_field=DateTimeField()) for field in fields))


def with_urgency(issues: QuerySet, now: datetime) -> QuerySet:
    """Annotate the next due time and the clock rank, and sort most urgent first: a red issue breached or
    due within the hour, then breached, then at risk, then the rest. Among the breached and the at-risk
    the more severe comes first, then the nearest due; among the rest the nearest due, then severity;
    then the older issue. A customer's deadline within SOON (or passed) ranks the issue with the at-risk
    ones, and counts as a due time in the order. One ORDER BY the database computes: the filters keep
    their indexes, and the page its query count."""
    return issues.annotate(
        next_due_at=_earliest("ack_due_at", "update_due_at"),
        next_risk_at=_earliest("ack_at_risk_at", "update_at_risk_at"),
    ).annotate(
        clock_rank=Case(
            When(severity=Severity.RED, next_due_at__lte=now + RED_HOT_WITHIN, then=Value(RED_HOT)),
            When(next_due_at__lte=now, then=Value(BREACHED)),
            When(next_risk_at__lte=now, then=Value(AT_RISK)),
            When(customer_deadline__lte=now + SOON, then=Value(AT_RISK)),
            default=Value(ON_TIME),
            output_field=IntegerField(),
        ),
        urgent_at=Least("next_due_at", Coalesce("customer_deadline", Value(NEVER), output_field=DateTimeField())),
        # Where severity weighs before the due time: a breached orange comes before a green breached for days.
        severity_first=Case(When(clock_rank__in=(BREACHED, AT_RISK), then=Severity.urgency()), default=Value(0),
                            output_field=IntegerField()),
    ).order_by("clock_rank", "severity_first", "urgent_at", Severity.urgency(), "created_at", "pk")


def overdue(now: datetime) -> Q:
    """Breached: a clock's stored due time has passed (a paused or stopped clock has none)."""
    return Q(ack_due_at__lte=now) | Q(update_due_at__lte=now)


def not_overdue(now: datetime) -> Q:
    return (Q(ack_due_at__gt=now) | Q(ack_due_at=None)) & (Q(update_due_at__gt=now) | Q(update_due_at=None))


def due_by(now: datetime, until: datetime) -> Q:
    """Not yet breached, and a clock falls due by `until`: the dashboard's "at risk (next 24 h)"."""
    return not_overdue(now) & (Q(ack_due_at__lte=until) | Q(update_due_at__lte=until))


def update_due_by(now: datetime, until: datetime) -> Q:
    """Not yet breached, and the customer must hear from us before `until`: "updates due today"."""
    return not_overdue(now) & Q(update_due_at__lt=until)


def team_zone(team: Team | None) -> ZoneInfo:
    """Where a team's day begins and ends: its business calendar's time zone, else the site's."""
    calendar = team.calendar if team is not None and team.calendar_id else None
    return ZoneInfo(calendar.time_zone if calendar else settings.TIME_ZONE)


def end_of_day(now: datetime, zone: ZoneInfo) -> datetime:
    """The next local midnight: "today" ends there."""
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), zone)


# The inbox's tier filter for customers without a tier, on the base policies.
BASE_TIER = "base"


@dataclass(frozen=True)
class InboxQuery:
    """The inbox's filters, already validated; empty strings mean "any"."""

    severity: str = ""
    status: str = ""
    owner: str = ""  # "me", "covering" (owners away whom I cover), "unassigned", a person's id, or "" (anyone)
    customer: str = ""  # a customer's slug
    team: str = ""  # a team's id
    tier: str = ""  # an SLA tier's id, or BASE_TIER for customers without a tier
    clock: str = ""  # "at_risk", "breached", "due_24h", "due_today" or ""
    q: str = ""
    scope: str = ""  # a key of SCOPES; "" is "open"


# The inbox's status scope: which issues it looks at. A typed reference finds its issue whatever the scope.
SCOPES = {
    "": IS_OPEN,
    "waiting": Q(status=Status.WAITING_ON_CUSTOMER),
    "resolved": Q(status=Status.RESOLVED),
    "closed": Q(status=Status.CLOSED),
    "all": Q(),
}


def reachable(customer: str = "customer") -> Exists:
    """Whether anyone at the customer can still be emailed: a contact whose mail has not bounced for good.
    A customer with none hears nothing from us until someone calls; the inbox, the issue page and the
    dashboard say so."""
    return Exists(Contact.objects.reachable().filter(customer=OuterRef(customer)))


def inbox(user, query: InboxQuery, *, now: datetime, customers: list[int] | None = None) -> QuerySet:
    """Issues of the user's teams in the scope (open ones by default) matching the filters, most urgent
    first, rows ready to render. A search that is an issue's reference finds it whatever its status.

    ``customers``: the ids of the customers the user may see, when the caller read them already (the inbox's
    filter form does). The database then filters by a plain list before it sorts and keeps only a page of rows
    in the sort, instead of sorting every open issue of every team and joining the user's teams afterwards
    (at 50,000 issues, 21 ms instead of 91)."""
    visible = Issue.objects.visible_to(user)
    if customers is not None and not user.is_superuser:
        visible = Issue.objects.filter(customer__in=customers)
    issues = inbox_rows(visible)
    in_scope = SCOPES.get(query.scope, IS_OPEN) & (Q(status=query.status) if query.status else Q())
    if query.q:
        # A reference names one issue: looked up by its key alone, whatever the scope (and fast).
        ref = search.reference(query.q)
        issues = issues.filter(search.by_reference(ref) if ref else in_scope & search.by_words(query.q))
    else:
        issues = issues.filter(in_scope)
    if query.severity:
        issues = issues.filter(severity=query.severity)
    if query.owner == "me":
        issues = issues.filter(owner=user)
    elif query.owner == "covering":
        issues = issues.filter(covered_by(user, now))
    elif query.owner == "unassigned":
        issues = issues.filter(owner=None)
    elif query.owner:
        issues = issues.filter(owner_id=query.owner)
    if query.customer:
        issues = issues.filter(customer__slug=query.customer)
    if query.team:
        issues = issues.filter(customer__team_id=query.team)
    if query.tier:
        issues = issues.filter(customer__tier_id=None if query.tier == BASE_TIER else query.tier)
    if query.clock == "breached":
        issues = issues.overdue(now)
    elif query.clock == "at_risk":
        issues = issues.at_risk(now)
    elif query.clock == "due_24h":
        issues = issues.filter(due_by(now, now + SOON))
    elif query.clock == "due_today":
        team = Team.objects.select_related("calendar").filter(pk=query.team).first() if query.team else None
        issues = issues.filter(update_due_by(now, end_of_day(now, team_zone(team))))
    return with_urgency(issues, now)


def inbox_rows(issues: QuerySet) -> QuerySet:
    """What an inbox row shows beside the issue's own columns: its customer (and whether anyone there can be
    emailed) and its owner."""
    return issues.select_related("customer", "owner").annotate(customer_reachable=reachable())


class SortedPages:
    """A sorted queryset for a paginator, a page read in two small queries: the database picks the page's ids
    among the sorted issues without joining or carrying the columns the rows show (from the index
    ``issue_open_update_due`` alone, which carries the sort's columns: 2 ms at 25,000 open issues, 7 reading
    their rows), then the page's rows are read by id (``inbox_rows``), with none of the sort's expressions to
    build or compute a second time, and put in the ids' order."""

    def __init__(self, issues: QuerySet) -> None:
        self.issues = issues

    def count(self) -> int:
        return self.issues.count()

    def __getitem__(self, window: slice) -> list:
        ids = list(self.issues.values_list("pk", flat=True)[window])
        rows = {issue.pk: issue for issue in inbox_rows(Issue.objects.filter(pk__in=ids))} if ids else {}
        return [rows[pk] for pk in ids if pk in rows]


def past_issues(user, customer: Customer) -> QuerySet:
    """A customer's resolved and closed issues, latest resolved first: who calls back finds them here. (Each has
    its resolution time: only resolving sets it, and only a resolved issue is closed. The order is the index
    ``issue_customer_past``'s.)"""
    return (Issue.objects.visible_to(user).filter(customer=customer).exclude(IS_OPEN).select_related("customer", "owner")
            .order_by("-resolved_at", "-pk"))


def issue_page(user, pk: int) -> Issue | None:
    """The issue with everything its header shows, or None when the user may not see it."""
    return (
        Issue.objects.visible_to(user)
        .select_related("customer", "customer__team", "customer__account_manager", "customer__tier", "reporter",
                        "owner")
        .annotate(customer_reachable=reachable(), owner_away_until=owner_away_until(timezone.now()))
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class IssueContacts:
    """The customer's contacts as one issue's page shows them: who receives its emails, and who may be
    copied on it. Read in one query (``issue_contacts``); the rule of who is written to is
    ``notifications.emails``'s, the same the emails follow."""

    issue: Issue
    contacts: list[Contact]  # every contact of the customer, each with `copied` (on this issue)

    @property
    def copied(self) -> list[Contact]:
        return [contact for contact in self.contacts if contact.copied]

    @property
    def recipients(self) -> list[Contact]:
        """The reporter first, then the contacts copied on the issue, then those who follow all its
        customer's issues; each once."""
        order = [c for c in self.contacts if c.pk == self.issue.reporter_id] + self.copied + [
            c for c in self.contacts if c.follows_all_issues]
        return list({contact.pk: contact for contact in order}.values())

    @property
    def to(self) -> list[Contact]:
        """Who a public update is written to now."""
        return [contact for contact in self.recipients if receives(contact)]


def issue_contacts(issue: Issue) -> IssueContacts:
    copies = Issue.cc.through.objects.filter(issue=issue.pk, contact=OuterRef("pk"))
    contacts = Contact.objects.filter(customer=issue.customer_id).annotate(copied=Exists(copies)).order_by("name", "pk")
    return IssueContacts(issue, list(contacts))


def timeline(issue: Issue) -> QuerySet:
    """Newest first: the latest word sits right under the compose box."""
    return IssueEvent.objects.filter(issue=issue).select_related("actor").order_by("-at", "-pk")


def visible_customers(user) -> QuerySet:
    """Customers whose issues the user may see: their teams' customers; every customer for superusers."""
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.none()
    if user.is_superuser:
        return Customer.objects.all()
    return Customer.objects.filter(team__in=Team.objects.of_person(user))


def _per_customer(rows: QuerySet, aggregate) -> Subquery:
    return Subquery(rows.filter(customer=OuterRef("pk")).order_by().values("customer")
                    .annotate(value=aggregate).values("value"))


def last_heard() -> Coalesce:
    """When the customer last heard from us about an issue; an issue they never heard about, since it was
    opened. One expression for the dashboard and the customers page, so both say the same "silent for"."""
    return Coalesce("customer_last_heard_at", "created_at")


def customers_overview(user) -> QuerySet:
    """Visible customers with their open issue count, contact count and when they last heard from us.

    "Last heard" is the quietest open issue's, as on the dashboard (``issues.reporting.counts.quiet_since``): news
    on one issue does not make up for silence on another. Correlated subqueries, not joins: no GROUP BY
    over the customer rows, and each reads one customer's slice of an index."""
    return visible_customers(user).select_related("team", "account_manager", "tier").annotate(
        open_count=Coalesce(_per_customer(Issue.objects.filter(IS_OPEN), Count("pk")), 0),
        contact_count=Coalesce(_per_customer(Contact.objects.all(), Count("pk")), 0),
        last_heard_at=_per_customer(Issue.objects.filter(IS_OPEN), Min(last_heard())),
    ).order_by("name")


def customer_page(user, slug: str, *, now: datetime | None = None) -> Customer | None:
    """One customer as the overview shows it; with `now`, also the share of promises kept (``issues.promises``)."""
    customers = customers_overview(user).filter(slug=slug)
    if now is not None:
        customers = customers.annotate(**customer_share_columns(now=now))
    return customers.first()


def team_people(team_ids) -> QuerySet:
    """Active people (members and leads) of the given teams: who may own their customers' issues."""
    return (
        get_user_model().objects.filter(is_active=True)
        .filter(Q(teams__in=team_ids) | Q(led_teams__in=team_ids))
        .distinct().order_by("first_name", "last_name", "username")
    )


def people_of(user) -> QuerySet:
    """Everyone the user works with: the people of the user's teams (of every team for superusers)."""
    teams = Team.objects.all().values("pk") if user.is_superuser else Team.objects.of_person(user)
    return team_people(teams)
