"""Closures of the office announced beforehand: a run of CLOSURE_MIN_DAYS or more days without working hours
(weekends, public holidays and closed days together) is announced CLOSURE_NOTICE_WORKING_DAYS working days
before it begins. Owners get their issues due before the office is back, customers a notice of who owns their
issues and when they will hear next (``notifications.closures``).

The first half is pure, like ``issues.calendars``: runs and notice times from a ``WorkingCalendar``. The second
is the service the beat runs: a ``Closure`` row names each announcement, so it happens once per calendar and run,
however many times or however concurrently the service runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from issues.calendars import WorkingCalendar
from issues.models import (
    IS_OPEN,
    BusinessCalendar,
    ClosedDay,
    Closure,
    Customer,
    EventKind,
    Issue,
    IssueEvent,
)
from notifications import closures as tell

ONE_DAY = timedelta(days=1)
# How far ahead runs are looked for: far more than any notice period needs.
HORIZON_DAYS = 45
# No run of closed days is followed further than this (a calendar closed for ever has no end to announce).
LONGEST_RUN_DAYS = 366


# --- pure: runs of closed days and when to announce them ------------------------------------------


@dataclass(frozen=True)
class Run:
    """Consecutive days without working hours, and the instants that matter to its announcement."""

    first_day: date
    last_day: date
    starts_at: datetime  # the first closed day begins
    ends_at: datetime  # the last closed day ends: what is due before this must be handled before leaving
    back_at: datetime  # the office opens again
    notice_at: datetime  # when the closure is announced

    def due(self, now: datetime) -> bool:
        """Announced from its notice time on, never once it has begun."""
        return self.notice_at <= now < self.starts_at


def closed(calendar: WorkingCalendar, day: date) -> bool:
    return calendar.window(day) is None


def closed_runs(calendar: WorkingCalendar, *, start: date, days: int, min_days: int) -> list[tuple[date, date]]:
    """The (first, last) days of each run of at least `min_days` closed days that begins within `days` days
    from `start`. A run already under way on `start` began earlier and is not one of them."""
    runs, day, end = [], start, start + timedelta(days=days)
    if closed(calendar, start - ONE_DAY):
        while closed(calendar, day) and day < end:
            day += ONE_DAY
    while day < end:
        if not closed(calendar, day):
            day += ONE_DAY
            continue
        first = day
        while closed(calendar, day) and (day - first).days < LONGEST_RUN_DAYS:
            day += ONE_DAY
        if (day - first).days >= min_days:
            runs.append((first, day - ONE_DAY))
    return runs


def notice_at(calendar: WorkingCalendar, first_day: date, *, working_days: int, since: date) -> datetime:
    """The opening of the `working_days`-th working day before `first_day`; when fewer working days are left
    from `since` on, the opening of the first one left; with none left, at once (`since` begins)."""
    found, day = None, first_day - ONE_DAY
    while day >= since and working_days > 0:
        window = calendar.window(day)
        if window is not None:
            found, working_days = window[0], working_days - 1
        day -= ONE_DAY
    return found or _midnight(calendar, since)


def upcoming(calendar: WorkingCalendar, *, now: datetime, min_days: int, notice_working_days: int,
             horizon_days: int = HORIZON_DAYS) -> list[Run]:
    """The runs that begin within the horizon from today (in the calendar's time zone), with their instants."""
    today = now.astimezone(calendar.zone).date()
    runs = []
    for first, last in closed_runs(calendar, start=today, days=horizon_days, min_days=min_days):
        back = calendar.window(last + ONE_DAY)
        ends_at = _midnight(calendar, last + ONE_DAY)
        runs.append(Run(first_day=first, last_day=last, starts_at=_midnight(calendar, first), ends_at=ends_at,
                        back_at=back[0] if back else ends_at,
                        notice_at=notice_at(calendar, first, working_days=notice_working_days, since=today)))
    return runs


def _midnight(calendar: WorkingCalendar, day: date) -> datetime:
    return datetime.combine(day, time(), calendar.zone)


# --- the service ------------------------------------------------------------------------------------


def announce_closures(*, now: datetime | None = None) -> int:
    """Announce each closure whose notice time has come on a calendar in use. Returns how many were announced
    (0 when run again: each closure's row is written once)."""
    now = now or timezone.now()
    announced = 0
    for model, calendar in calendars_in_use():
        due = [run for run in upcoming(calendar, now=now, min_days=settings.CLOSURE_MIN_DAYS,
                                       notice_working_days=settings.CLOSURE_NOTICE_WORKING_DAYS) if run.due(now)]
        if not due:
            continue
        known = set(Closure.objects.filter(calendar=model, first_day__in=[run.first_day for run in due])
                    .values_list("first_day", flat=True))
        announced += sum(announce_closure(model, run, now=now) for run in due if run.first_day not in known)
    return announced


def calendars_in_use() -> list[tuple[BusinessCalendar, WorkingCalendar]]:
    """Calendars some customer follows (its own, else its team's), with their closed days: two queries."""
    own = Customer.objects.filter(calendar=OuterRef("pk"))
    through_team = Customer.objects.filter(calendar=None, team__calendar=OuterRef("pk"))
    models = list(BusinessCalendar.objects.filter(Exists(own) | Exists(through_team)).order_by("pk"))
    closed_days: dict[int, set[date]] = {model.pk: set() for model in models}
    for calendar_id, day in ClosedDay.objects.filter(calendar__in=models).values_list("calendar", "date"):
        closed_days[calendar_id].add(day)
    return [(model, model.working_calendar(closed_days=closed_days[model.pk])) for model in models]


def on_calendar(model: BusinessCalendar) -> Q:
    """Issues of the customers that follow this calendar."""
    return Q(customer__calendar=model) | Q(customer__calendar=None, customer__team__calendar=model)


def announce_closure(model: BusinessCalendar, run: Run, *, now: datetime) -> bool:
    """One closure, in one transaction: its row first (the name of the announcement: a second, concurrent run
    fails to insert it and does nothing), then the emails and a line on each open issue's timeline."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                closure = Closure.objects.create(calendar=model, first_day=run.first_day, last_day=run.last_day,
                                                 announced_at=now)
        except IntegrityError:
            return False
        issues = list(Issue.objects.filter(IS_OPEN).filter(on_calendar(model))
                      .select_related("owner", "customer__team", "customer__account_manager").order_by("pk"))
        moments = tell.Moments(ends_at=run.ends_at, back_at=run.back_at, now=now)
        owners = tell.owners(closure, issues, moments)
        contacts = tell.contacts(closure, issues, moments)
        IssueEvent.objects.bulk_create([
            IssueEvent(issue=issue, kind=EventKind.CLOSURE_ANNOUNCED, at=now, public=False,
                       data={"first_day": run.first_day.isoformat(), "last_day": run.last_day.isoformat(),
                             "recipients": contacts.get(issue.pk, []), "owners": owners.get(issue.pk, [])})
            for issue in issues
        ])
    return True
