"""The daily digest: one email per person and local day, at the start of their working day, never empty.

A team lead hears what is breached, due within 24 hours and due today in each team they lead; an owner
hears about their own issues that are breached or due within 24 hours (in teams they do not lead: those
are in the team's list already). Beat calls `send_digests` every quarter of an hour and it picks the
people whose working day has just begun: the opening of their team's business calendar (the team they
lead, else the first they belong to), or 09:00 in the site's time zone for a team without one. The outbox
dedupe key names the person and their local date, so a digest goes once a day however often beat runs.

A fixed number of queries whatever the number of people: counts and the first issues of every list are
read for all recipients at once (window functions pick the first rows of each list).

Someone away that morning gets no digest; their own section goes to the digest of their backup, under
"Covering for Hana" (``issues.away``), limited to the teams the backup may open. Without a usable backup
the lead's digest lists those issues already, in the team's section.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from issues.away import covers, periods_at
from issues.away import name as away_name
from issues.models import ClosedDay, Issue, Profile, Severity, Status, Team
from issues.reporting.counts import display_name
from issues.selectors import (
    SOON,
    due_by,
    end_of_day,
    overdue,
    team_zone,
    update_due_by,
    with_urgency,
)
from notifications.emails import iso
from notifications.models import EmailKind, OutboundEmail
from notifications.outbox import Email, enqueue
from notifications.recipients import may_open

# Beat may be down at opening time: a digest still goes within this long, never as an afternoon surprise.
CATCH_UP = timedelta(hours=2)
DEFAULT_OPENING = time(9)
# Issues listed per section; the counts above each list cover all of them.
LISTED = 20


@dataclass(frozen=True)
class Morning:
    day: date
    zone: ZoneInfo

    def key(self, user) -> str:
        return f"digest:{user.pk}:{self.day.isoformat()}"


def morning(team: Team | None, closed: dict[int, set[date]], now: datetime) -> Morning | None:
    """The team's local day, if its working day began within the catch-up window before `now`."""
    zone = team_zone(team)
    day = now.astimezone(zone).date()
    if team is not None and team.calendar_id:
        hours = team.calendar.working_calendar(closed_days=closed[team.calendar_id]).window(day)
        if hours is None:
            return None  # a weekend or a holiday: no digest
        opens = hours[0]
    else:
        opens = datetime.combine(day, DEFAULT_OPENING, zone)
    return Morning(day, zone) if opens <= now < opens + CATCH_UP else None


def needs_attention(now: datetime) -> Q:
    return overdue(now) | due_by(now, now + SOON)


def candidates(now: datetime) -> QuerySet:
    """Active people with an address who did not turn digests off, and who lead a team or own an open
    issue that needs attention and that they may still open (anyone else would get an empty digest)."""
    owners = Issue.objects.open().filter(needs_attention(now), may_open("owner", "customer__team")).values("owner")
    backups = periods_at(now).filter(person__in=owners).values("backup")
    return (get_user_model().objects.filter(is_active=True).exclude(email="")
            .exclude(profile__receives_digest=False).exclude(pk__in=periods_at(now).values("person"))
            .filter(Q(pk__in=Team.objects.values("lead")) | Q(pk__in=owners) | Q(pk__in=backups))
            .annotate(covers_someone=Exists(periods_at(now).filter(backup=OuterRef("pk"))))
            .select_related("profile").order_by("pk"))


def mornings_of(people: list, now: datetime) -> dict[int, tuple[Morning, list[Team]]]:
    """Whose working day just began, in three queries: per person, their local day and the teams they lead. A
    person's day is their team's (the team they lead, else the first they belong to): the digest and the
    morning reminders of breaches (``notifications.repeats``) keep the same mornings."""
    teams = list(Team.objects.select_related("calendar").order_by("name"))
    closed = defaultdict(set)
    around_today = (now.date() - timedelta(days=1), now.date() + timedelta(days=1))
    for calendar_id, day in ClosedDay.objects.filter(date__range=around_today).values_list("calendar", "date"):
        closed[calendar_id].add(day)
    member_of = defaultdict(set)
    for user_id, team_id in Team.members.through.objects.filter(user__in=people).values_list("user", "team"):
        member_of[user_id].add(team_id)
    found = {}
    for person in people:
        led = [team for team in teams if team.lead_id == person.pk]
        home = next(iter(led or [team for team in teams if team.pk in member_of[person.pk]]), None)
        if (today := morning(home, closed, now)) is not None:
            found[person.pk] = (today, led)
    return found


def due_now(now: datetime) -> list[tuple[object, Morning, list[Team]]]:
    """(person, their local day, the teams they lead) for everyone whose digest is due and not yet queued."""
    people = list(candidates(now))
    mornings = mornings_of(people, now)
    due = [(person, *mornings[person.pk]) for person in people if person.pk in mornings]
    queued = set(OutboundEmail.objects.filter(dedupe_key__in=[today.key(person) for person, today, _ in due])
                 .values_list("dedupe_key", flat=True))
    return [(person, today, led) for person, today, led in due if today.key(person) not in queued]


def first_issues(issues: QuerySet, per: str, now: datetime) -> dict[int, list[Issue]]:
    """The LISTED most urgent issues per value of `per` (a team, an owner), in one query."""
    ranked = with_urgency(issues, now).select_related("customer", "owner").annotate(rank=Window(
        RowNumber(), partition_by=[F(per)],
        order_by=[F("clock_rank").asc(), F("next_due_at").asc(), Severity.urgency().asc(), F("pk").asc()],
    )).filter(rank__lte=LISTED)
    lists = defaultdict(list)
    for issue in ranked:
        lists[issue.customer.team_id if per == "customer__team" else issue.owner_id].append(issue)
    return lists


def item(issue: Issue, now: datetime, day_ends_at: datetime) -> dict:
    """One line of a digest, small enough to store in the outbox row."""
    due = issue.next_due_at
    if due <= now:
        state = "breached"
    elif issue.update_due_at is not None and issue.update_due_at < day_ends_at:
        state = "due_today"
    else:
        state = "due_24h"
    return {"id": issue.pk, "reference": issue.reference, "title": issue.title[:120], "customer": issue.customer.name,
            "severity": issue.severity, "state": state, "due": due.isoformat(),
            "owner": display_name(issue.owner) if issue.owner else ""}


def team_sections(teams: list[Team], now: datetime) -> dict[int, dict]:
    """Per team with anything to report: the counts of the dashboard's "Now" and the first issues."""
    if not teams:
        return {}
    ends = {team.pk: end_of_day(now, team_zone(team)) for team in teams}
    teams_ending = defaultdict(list)
    for team_id, end in ends.items():
        teams_ending[end].append(team_id)
    due_today = reduce(or_, (Q(customer__team__in=ids) & update_due_by(now, end) for end, ids in teams_ending.items()))
    attention = Issue.objects.open().filter(customer__team__in=list(ends)).filter(needs_attention(now))
    counts = {row.pop("customer__team"): row for row in attention.values("customer__team").annotate(
        breached=Count("pk", filter=overdue(now)), due_24h=Count("pk", filter=due_by(now, now + SOON)),
        due_today=Count("pk", filter=due_today)).order_by()}
    lists = first_issues(attention, "customer__team", now)
    waiting = {row.pop("customer__team"): row for row in Issue.objects.open().filter(
        customer__team__in=list(counts), status=Status.WAITING_ON_CUSTOMER).values("customer__team").annotate(
        waiting=Count("pk"), waiting_since=Min("update_paused_at")).order_by()}
    return {
        team.pk: {"id": team.pk, "name": team.name, **counts[team.pk],
                  "waiting": waiting.get(team.pk, {}).get("waiting", 0),
                  "waiting_since": iso(waiting.get(team.pk, {}).get("waiting_since")),
                  "issues": [item(issue, now, ends[team.pk]) for issue in lists[team.pk]],
                  "more": counts[team.pk]["breached"] + counts[team.pk]["due_24h"] - len(lists[team.pk])}
        for team in teams if team.pk in counts
    }


def own_sections(people: list, now: datetime, ends: dict[int, datetime], *, scope: Q | None = None) -> dict[int, dict]:
    """Per person: their own issues that need attention, outside the teams they lead, and only those they
    may still open (an owner who left a team, or whose customer moved, hears no more of its issues)."""
    mine = (Issue.objects.open().filter(owner__in=people).filter(scope or Q()).filter(needs_attention(now))
            .filter(may_open("owner", "customer__team")).exclude(customer__team__lead=F("owner")))
    counts = {row.pop("owner"): row for row in mine.values("owner").annotate(
        breached=Count("pk", filter=overdue(now)), due_24h=Count("pk", filter=due_by(now, now + SOON))).order_by()}
    lists = first_issues(mine, "owner", now)
    return {
        person_id: {**row, "issues": [item(issue, now, ends[person_id]) for issue in lists[person_id]],
                    "more": row["breached"] + row["due_24h"] - len(lists[person_id])}
        for person_id, row in counts.items()
    }


def covering_sections(people: list, now: datetime, ends: dict[int, datetime]) -> dict[int, list[dict]]:
    """Per backup among `people`: the own sections of those they cover this morning, each limited to the
    issues of teams the backup may open."""
    people = [person for person in people if getattr(person, "covers_someone", False)]
    if not people:
        return {}
    cover = covers(periods_at(now).filter(backup__in=people).values_list("person", flat=True), now, teams=True)
    covered = {pk: each for pk, each in cover.items() if each.backup is not None and each.backup.pk in ends}
    if not covered:
        return {}
    scope = reduce(or_, (Q(owner=pk, customer__team__in=each.backup_teams) for pk, each in covered.items()))
    sections = own_sections(list(covered), now, {pk: ends[each.backup.pk] for pk, each in covered.items()},
                            scope=scope)
    found = defaultdict(list)
    for pk, each in covered.items():
        if pk in sections:
            found[each.backup.pk].append({**sections[pk], "covering": away_name(each.person)})
    return found


def send_digests(*, now: datetime | None = None) -> int:
    """Queue the digests due now. Returns how many were queued."""
    now = now or timezone.now()
    return len(enqueue([email for _, _, email in digests_due(now)], now=now))


def digests_due(now: datetime) -> list[tuple[object, Morning, Email]]:
    """The digests due now and not queued yet (not queued here), each with its person and their morning."""
    due = due_now(now)
    if not due:
        return []
    teams = team_sections(list({team.pk: team for _, _, led in due for team in led}.values()), now)
    ends = {person.pk: end_of_day(now, today.zone) for person, today, _ in due}
    own = own_sections([person for person, _, _ in due], now, ends)
    covering = covering_sections([person for person, _, _ in due], now, ends)
    emails = []
    for person, today, led in due:
        sections, mine = [teams[team.pk] for team in led if team.pk in teams], own.get(person.pk)
        if not sections and not mine and not covering.get(person.pk):
            continue  # nobody gets an empty digest
        emails.append((person, today, Email(
            recipient=person.email, recipient_name=display_name(person), language=Profile.language_of(person),
            kind=EmailKind.DIGEST, dedupe_key=today.key(person),
            context={"day": today.day.isoformat(), "teams": sections, "own": mine,
                     "covering": covering.get(person.pk, [])},
        )))
    return emails

