"""The customer's own deadline ("we need this by"): when the owner hears that it is near.

The owner is warned one working day before the deadline, on the team's working hours (the people who must
act work those): ``WORKING_DAY`` of working time before it on a business calendar, a calendar day around the
clock, and never before the moment the deadline was set. The instant is stored on the issue
(``deadline_warn_at``) so the scan finds it with one indexed range query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from issues.calendars import HORIZON_DAYS, WorkingCalendar
from issues.models import EventKind, Issue
from issues.timeline import person_name

# One working day: the default calendar's Monday–Friday 09:00–18:00; around the clock, a calendar day.
WORKING_DAY = timedelta(hours=9)
CALENDAR_DAY = timedelta(days=1)


def working_time_before(calendar: WorkingCalendar, end: datetime, duration: timedelta) -> datetime:
    """The instant `duration` of working time before `end` (pure: the reverse of ``calendar.add``)."""
    end = end.astimezone(UTC)
    remaining = duration
    last_day = end.astimezone(calendar.zone).date()
    for offset in range(HORIZON_DAYS):
        window = calendar.window(last_day - timedelta(days=offset))
        if window is None:
            continue
        begin, finish = window[0], min(window[1], end)
        if finish <= begin:
            continue
        if remaining <= finish - begin:
            return finish - remaining
        remaining -= finish - begin
    raise ValueError("No working time within ten years: is every day of this calendar closed?")


def warn_at(deadline: datetime, *, calendar: WorkingCalendar | None, now: datetime) -> datetime:
    """When whoever must act hears that the customer's deadline is near: one working day before it on
    the team's calendar (a calendar day without one), never before `now`."""
    before = (working_time_before(calendar, deadline, WORKING_DAY) if calendar is not None
              else deadline.astimezone(UTC) - CALENDAR_DAY)
    return max(before, now)


def team_calendar(issue: Issue) -> WorkingCalendar | None:
    """The working hours of the team that serves the issue's customer, closed days included."""
    model = issue.customer.team.calendar
    return model.working_calendar() if model is not None else None


def check_deadline(issue: Issue, deadline: datetime | None, *, now: datetime) -> None:
    if deadline is None:
        return
    if timezone.is_naive(deadline):
        raise ValidationError({"customer_deadline": _("Give the deadline with its time zone.")})
    if deadline <= now:
        raise ValidationError({"customer_deadline": _("The customer's deadline must be in the future.")})


def seen_deadline(issue: Issue) -> str:
    """How a form records the deadline its page showed: UTC ISO text, "" for none."""
    deadline = issue.customer_deadline
    return deadline.astimezone(UTC).isoformat() if deadline else ""


def check_seen(issue: Issue, seen: str | None) -> None:
    """Refuse a deadline set on a page that showed an older one, saying who changed it and when (like
    ``checks.check_seen`` for the other fields of the issue page)."""
    if seen is None or seen == seen_deadline(issue):
        return
    event = (issue.events.filter(kind=EventKind.DEADLINE_SET).order_by("-at", "-pk").select_related("actor")
             .first())
    if event is None:
        return
    facts = {"who": person_name(event.actor) or _("Someone"),
             "when": timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M")}
    if issue.customer_deadline is None:
        message = _("%(who)s removed the customer's deadline at %(when)s, after this page was loaded. "
                    "Reload to see it, then choose again.") % facts
    else:
        facts["value"] = timezone.localtime(issue.customer_deadline).strftime("%Y-%m-%d %H:%M")
        message = _("%(who)s set the customer's deadline to %(value)s at %(when)s, after this page was loaded. "
                    "Reload to see it, then choose again.") % facts
    raise ValidationError({"customer_deadline": message})


def rearm(issue: Issue, *, calendar: WorkingCalendar | None, now: datetime) -> None:
    """An issue whose deadline was never warned about, reopened (the scan drops the warning of an issue
    resolved before it came) or whose team's calendar changed: the warning is due again, one working day before
    the deadline on the team's calendar as it is now (`calendar`: ``team_calendar``)."""
    if issue.customer_deadline is not None and issue.deadline_warned_at is None:
        issue.deadline_warn_at = warn_at(issue.customer_deadline, calendar=calendar, now=now)
