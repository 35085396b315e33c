"""Eight weeks of a support team, hour by hour: how long does a customer go without news from us?

The promise measured: a customer is never more than seven days without a message from us about an open,
acknowledged issue (acknowledgement, public update, automatic status email, waiting reminder, resolution).
``simulate`` plays a seeded team on the default Seoul calendar through weeks of issues on a fresh database:
owners who acknowledge within working hours (sometimes late), who update regularly, who forget for weeks,
who ask and wait; customers who answer after one to ten days or never; issues resolved along the way. Every
action, answer, scan and closure announcement happens on the hour, so every due time falls on an hour and
the silences measured from the outbox are exact. ``tests/benchmarks/silence.py`` prints the full run.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Min

from issues import conversation, services, sla
from issues.clocks import clock_setup
from issues.closures import announce_closures
from issues.defaults import DEFAULT_CALENDAR
from issues.models import (
    Breach,
    BusinessCalendar,
    EventKind,
    Issue,
    IssueEvent,
    Severity,
    Status,
)
from issues.scan import scan_sla
from notifications.emails import update_recipients
from notifications.models import CUSTOMER_KINDS, EmailKind, OutboundEmail
from tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory

SEOUL = ZoneInfo("Asia/Seoul")
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
LIMIT = sla.UPDATE_CEILING
# Monday 2 February 2026, 09:00 in Seoul: Seollal (closed Saturday 14 to Wednesday 18 February) is in week 2.
SEOLLAL_WEEKS = datetime(2026, 2, 2, 9, tzinfo=SEOUL)
SEVERITY_WEIGHTS = {Severity.RED: 1, Severity.ORANGE: 2, Severity.BLUE: 4, Severity.GREEN: 3}
# Each owner has a habit: updates every day or two; acknowledges late and then forgets; asks the customer
# something and waits. Two of each.
HABITS = ("steady", "forgetful", "asks") * 2
# What counts as news: every email to a customer's contact about the issue. A receipt only says an email
# arrived (sent automatically before anyone acknowledged), and closure notices are about the office.
NEWS = CUSTOMER_KINDS - {EmailKind.RECEIPT}
TALLIED = ("updates", "waits", "answers", "forgotten_answers", "resolved")
COUNTED_EVENTS = {"reminders": EventKind.WAITING_REMINDER, "waits_ended": EventKind.WAITING_ENDED,
                  "auto_emails": EventKind.AUTO_STATUS_EMAIL, "closures": EventKind.CLOSURE_ANNOUNCED}


@dataclass(frozen=True)
class Silence:
    """An issue's longest stretch without news, from its acknowledgement to its resolution (or the end)."""

    issue_id: int
    reference: str
    severity: str
    habit: str
    waited: bool
    longest: timedelta
    began: datetime
    ended: datetime


@dataclass
class Row:
    """One line of the table: a severity's issues, their silences and what happened to them."""

    label: str
    silences: list[Silence]
    counts: Counter = field(default_factory=Counter)

    @property
    def longest(self) -> timedelta:
        return max((s.longest for s in self.silences), default=timedelta(0))

    @property
    def mean(self) -> timedelta:
        return sum((s.longest for s in self.silences), timedelta(0)) / max(len(self.silences), 1)

    @property
    def over(self) -> int:
        return sum(s.longest > LIMIT for s in self.silences)


COLUMNS = {"Updates": "updates", "Send and wait": "waits", "Answers": "answers", "Reminders": "reminders",
           "Waits ended": "waits_ended", "Automatic emails": "auto_emails", "Closure announced": "closures",
           "Breaches": "breaches", "Resolved": "resolved"}


@dataclass
class Report:
    start: datetime
    end: datetime
    scans: int
    rows: dict[str, Row]  # by severity
    silences: list[Silence]
    closure_notices: int
    stories: dict[int, list[str]] = field(default_factory=dict)

    def longest(self, *, waited: bool | None = None) -> Silence | None:
        chosen = [s for s in self.silences if waited is None or s.waited == waited]
        return max(chosen, key=lambda silence: silence.longest, default=None)

    def over_limit(self) -> list[Silence]:
        return sorted((s for s in self.silences if s.longest > LIMIT), key=lambda s: s.longest, reverse=True)

    def total(self, name: str) -> int:
        return sum(row.counts[name] for row in self.rows.values())

    def table(self) -> str:
        """Markdown: one line per severity, then the issues that waited on the customer, whatever their severity."""
        head = ("Severity", "Issues", "Longest silence", "Mean longest", "Over 7 days", *COLUMNS)
        lines = [_cells(head), "|" + "---|" * len(head)]
        for row in self.rows.values():
            lines.append(_cells((row.label, len(row.silences), span(row.longest), span(row.mean), row.over,
                                 *(row.counts[name] for name in COLUMNS.values()))))
        waited = Row("Waited on the customer (any severity)", [s for s in self.silences if s.waited])
        lines.append(_cells((waited.label, len(waited.silences), span(waited.longest), span(waited.mean), waited.over,
                             *[""] * len(COLUMNS))))
        start, end = self.start.astimezone(SEOUL), self.end.astimezone(SEOUL)
        footer = (f"{start:%a %d %b %Y %H:%M} to {end:%a %d %b %Y %H:%M} (Asia/Seoul), {self.scans} hourly scans; "
                  f"{self.closure_notices} closure notices emailed to contacts; "
                  f"{self.total('forgotten_answers')} customer answers never answered by their owner.")
        return "\n".join([*lines, "", footer])


def _cells(values) -> str:
    return "| " + " | ".join(str(value) for value in values) + " |"


def span(duration: timedelta) -> str:
    days, rest = divmod(duration, DAY)
    return f"{days} d {rest // HOUR} h"


def simulate(*, start: datetime = SEOLLAL_WEEKS, weeks: int = 8, issues_per_day: float = 6.0, seed: int = 13,
             answer_rate: float = 0.6, forgets_answer_rate: float = 0.15) -> Report:
    """Play `weeks` of issues from `start` (on the hour) on a database that has the default policies and
    calendar; scan and announce closures every hour; measure the silences from the outbox."""
    start = start.astimezone(SEOUL)  # the days and hours below are the Seoul office's
    world = World(random.Random(seed), start=start, answer_rate=answer_rate, forgets_answer_rate=forgets_answer_rate)
    end = start + weeks * 7 * DAY
    arrivals = world.arrivals(end, issues_per_day)
    scans = 0
    for now in hours(start, end):
        for severity in arrivals.get(now, []):
            world.open_one(severity, now=now)
        world.act_until(now)
        scan_sla(now=now)
        announce_closures(now=now)
        scans += 1
    return measure(world, start=start, end=end, scans=scans)


def hours(start: datetime, end: datetime):
    now = start
    while now <= end:
        yield now
        now += HOUR


class World:
    """The team, its customers and what each person will do next (an agenda of actions on the hour)."""

    def __init__(self, rng: random.Random, *, start: datetime, answer_rate: float, forgets_answer_rate: float):
        self.rng, self.start = rng, start
        self.answer_rate, self.forgets_answer_rate = answer_rate, forgets_answer_rate
        model = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
        self.calendar = model.working_calendar()
        # Nobody logs in to a simulation: no password to hash.
        self.lead = UserFactory(username="sim-lead", first_name="Jisoo", last_name="Kim", password="!")
        self.owners = [UserFactory(username=f"sim-{habit}-{n}", password="!") for n, habit in enumerate(HABITS)]
        self.habit = {owner.pk: habit for owner, habit in zip(self.owners, HABITS, strict=True)}
        team = TeamFactory(name="Simulated support", lead=self.lead, calendar=model)
        team.members.add(*self.owners)
        self.customers = [self._customer(team, n) for n in range(6)]
        self.agenda: list = []
        self.order = itertools.count()
        self.plan: dict[int, int] = defaultdict(int)  # a newer plan for an issue makes older actions moot
        self.waits: dict[int, int] = defaultdict(int)  # questions asked per issue
        self.answers_to: dict[int, int] = defaultdict(int)
        self.tally: dict[str, Counter] = defaultdict(Counter)

    def _customer(self, team, n: int):
        customer = CustomerFactory(name=f"Customer {n}", code=f"SIM{n}", team=team,
                                   account_manager=self.owners[n % len(self.owners)], language="ko" if n % 2 else "en")
        english = ContactFactory(customer=customer, name=f"Alex Reader {n}", email=f"alex{n}@sim.example.com",
                                 language="en", follows_all_issues=n % 3 == 0)
        korean = ContactFactory(customer=customer, name=f"김지민 {n}", email=f"jimin{n}@sim.example.com", language="ko")
        return customer, (english, korean)

    # --- when things happen -----------------------------------------------------------------------

    def arrivals(self, end: datetime, per_day: float) -> dict[datetime, list[str]]:
        """Issues arrive at any hour, most in working hours, fewer on closed days; the first four are one
        of each severity."""
        arrivals, order = defaultdict(list), itertools.cycle(Severity.values)
        day, made = self.start, 0
        while day < end:
            closed = self.calendar.window(day.date()) is None
            count = self._count(per_day * (0.4 if closed else 1.0))
            for _ in range(count):
                hour = self.rng.choice(range(9, 18)) if self.rng.random() < 0.75 else self.rng.randrange(24)
                at = day.replace(hour=hour)
                if self.start <= at < end:
                    severity = next(order) if made < 4 else self._severity()
                    arrivals[at].append(severity)
                    made += 1
            day += DAY
        return arrivals

    def _count(self, mean: float) -> int:
        whole, part = divmod(mean, 1)
        return int(whole) + (self.rng.random() < part)

    def _severity(self) -> str:
        return self.rng.choices(list(SEVERITY_WEIGHTS), weights=list(SEVERITY_WEIGHTS.values()))[0]

    def working(self, after: datetime, low: int, high: int) -> datetime:
        """An hour inside the team's working time, `low` to `high` working hours after `after`."""
        return self.calendar.add(after, self.rng.randint(low, high) * HOUR).astimezone(SEOUL)

    def later(self, at: datetime, action: Callable[[Issue, datetime], None], issue: Issue) -> None:
        heapq.heappush(self.agenda, (at, next(self.order), self.plan[issue.pk], issue.pk, action))

    def act_until(self, now: datetime) -> None:
        while self.agenda and self.agenda[0][0] <= now:
            _, _, plan, issue_id, action = heapq.heappop(self.agenda)
            issue = Issue.objects.select_related("customer__team", "owner").get(pk=issue_id)
            if plan == self.plan[issue_id] and issue.is_open:
                action(issue, now)

    def new_plan(self, issue: Issue) -> None:
        self.plan[issue.pk] += 1

    # --- what people do ---------------------------------------------------------------------------

    def open_one(self, severity: str, *, now: datetime) -> None:
        customer, contacts = self.rng.choice(self.customers)
        owner = self.rng.choice(self.owners)
        issue = services.open_issue(customer=customer, title=f"{Severity(severity).label} issue at {now:%d %b %H:%M}",
                                    severity=severity, reporter=self.rng.choice(contacts), owner=owner, by=owner,
                                    now=now)
        late = self.rng.random() < 0.2 or self.habit[owner.pk] == "forgetful"
        self.later(self.working(now, 4, 24) if late else self.working(now, 1, 4), self.acknowledge, issue)

    def acknowledge(self, issue: Issue, now: datetime) -> None:
        services.acknowledge(issue=issue, by=issue.owner, now=now)
        habit = self.habit[issue.owner_id]
        if habit == "steady":
            self.later(self.working(now, 6, 30), self.update, issue)
        elif habit == "asks":
            self.later(self.working(now, 1, 6), self.ask, issue)
        elif self.rng.random() < 0.3:  # forgetful: weeks later, perhaps, it is fixed without a word between
            self.later(self.working(now, 90, 200), self.resolve, issue)

    def update(self, issue: Issue, now: datetime) -> None:
        """A steady owner: resolves once it has been open a few days, else writes and comes back soon,
        sometimes promising a date (and sometimes missing it)."""
        if now - issue.created_at > 3 * DAY and self.rng.random() < 0.3:
            self.resolve(issue, now)
            return
        promised = None
        if self.rng.random() < 0.3:
            promised = min(self.working(now, 9, 27), self.promise_limit(issue, now))
        services.post_update(issue=issue, body="We are working on it; here is where we are.", public=True,
                             by=issue.owner, now=now, promised_update_at=promised)
        self.tally[issue.severity]["updates"] += 1
        self.later(self.working(now, 6, 40), self.update, issue)

    def promise_limit(self, issue: Issue, now: datetime) -> datetime:
        rules, calendar = clock_setup(issue)
        return sla.promise_limit(now=now, rules=rules, calendar=calendar)

    def ask(self, issue: Issue, now: datetime) -> None:
        """Send and wait: the customer answers after one to ten days, or never."""
        services.post_update(issue=issue, body="Could you send us the export log?", public=True, by=issue.owner,
                             now=now, wait=True)
        self.tally[issue.severity]["waits"] += 1
        self.waits[issue.pk] += 1
        question = self.waits[issue.pk]
        if self.rng.random() < self.answer_rate:
            self.later(now + self.rng.randint(24, 240) * HOUR, self.answer, issue)
        self.later(self.working(now + 7 * DAY, 1, 9), lambda i, t: self.no_answer(i, t, question), issue)

    def answer(self, issue: Issue, now: datetime) -> None:
        contact = issue.reporter
        conversation.receive_customer_message(issue=issue, contact=contact, body="Here is the log you asked for.",
                                              subject=f"Re: {issue.title}", at=now, now=now)
        self.tally[issue.severity]["answers"] += 1
        self.answers_to[issue.pk] = self.waits[issue.pk]
        self.new_plan(issue)
        if self.rng.random() < self.forgets_answer_rate:
            self.tally[issue.severity]["forgotten_answers"] += 1
            return
        self.later(self.working(now, 1, 8), self.after_answer, issue)

    def after_answer(self, issue: Issue, now: datetime) -> None:
        roll = self.rng.random()
        if roll < 0.3:
            self.resolve(issue, now)
        elif roll < 0.55:
            self.ask(issue, now)
        else:
            self.update(issue, now)

    def no_answer(self, issue: Issue, now: datetime, question: int) -> None:
        """A week after asking, no answer: half the owners write again, the others forget."""
        if self.answers_to[issue.pk] < question == self.waits[issue.pk] and self.rng.random() < 0.5:
            self.update(issue, now)

    def resolve(self, issue: Issue, now: datetime) -> None:
        services.resolve(issue=issue, by=issue.owner, body="Fixed in today's release.", now=now)
        self.tally[issue.severity]["resolved"] += 1


# --- what the customers heard -----------------------------------------------------------------------


def measure(world: World, *, start: datetime, end: datetime, scans: int) -> Report:
    issues = list(Issue.objects.select_related("customer").order_by("pk"))
    reachable = {pk for pk, contacts in update_recipients(issues).items() if contacts}
    acknowledged = dict(IssueEvent.objects.filter(kind=EventKind.ACKNOWLEDGED).values("issue")
                        .annotate(first=Min("at")).values_list("issue", "first"))
    news = defaultdict(set)
    for issue_id, at in (OutboundEmail.objects.filter(issue__isnull=False, kind__in=NEWS)
                         .exclude(status=OutboundEmail.Status.CANCELLED).values_list("issue_id", "created_at")):
        news[issue_id].add(at)
    silences = []
    for issue in issues:
        if issue.pk in reachable and issue.pk in acknowledged:
            finished = issue.resolved_at if issue.status == Status.RESOLVED else end
            silences.append(silence(issue, world, acknowledged[issue.pk], finished, news[issue.pk]))
    report = Report(start=start, end=end, scans=scans, rows=rows(silences, world),
                    silences=silences, closure_notices=OutboundEmail.objects.filter(kind=EmailKind.CLOSURE_NOTICE).count())
    report.stories = {s.issue_id: story(s) for s in report.over_limit()[:10]}
    return report


def silence(issue: Issue, world: World, acknowledged: datetime, finished: datetime, sent: set[datetime]) -> Silence:
    moments = [acknowledged, *sorted(at for at in sent if acknowledged < at < finished), finished]
    gaps = [(later - earlier, earlier, later) for earlier, later in itertools.pairwise(moments)]
    longest, began, ended = max(gaps, key=lambda gap: gap[0])
    return Silence(issue.pk, issue.reference, issue.severity, world.habit.get(issue.owner_id, "-"),
                   world.waits[issue.pk] > 0, longest, began.astimezone(SEOUL), ended.astimezone(SEOUL))


def rows(silences: list[Silence], world: World) -> dict[str, Row]:
    found = {severity: Row(Severity(severity).label, [s for s in silences if s.severity == severity])
             for severity in Severity.values}
    for severity, row in found.items():
        row.counts.update({name: world.tally[severity][name] for name in TALLIED})
    for name, kind in COUNTED_EVENTS.items():
        for severity, count in (IssueEvent.objects.filter(kind=kind).values_list("issue__severity")
                                .annotate(n=Count("pk")).values_list("issue__severity", "n")):
            found[severity].counts[name] = count
    for severity, count in Breach.objects.values_list("severity").annotate(n=Count("pk")).values_list("severity", "n"):
        found[severity].counts["breaches"] = count
    return found


def story(s: Silence) -> list[str]:
    """What happened on an issue during its longest silence: the timeline, without the clock's own lines."""
    events = IssueEvent.objects.filter(issue=s.issue_id, at__gte=s.began, at__lte=s.ended).exclude(
        kind__startswith="clock_").order_by("at", "pk")
    return [f"{event.at.astimezone(SEOUL):%a %d %b %H:%M} {event.kind} {event.new_value}".rstrip() for event in events]
