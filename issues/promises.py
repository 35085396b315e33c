"""Promises kept: every date promised to the customer in a public update ends kept or broken.

A promise is made by a public update the customer receives that names the next update's date (and by a
"send and wait" that repeats the promise still ahead). The next human public update the customer receives
keeps every open promise of the issue whose date it meets, and so does the resolution; a promise whose date
passes first is broken (``break_promises``, called by the scan, or the update that comes too late). A promise
is whose the issue was when it was made (``Promise.owner``): the owner's figure on the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from issues.models import EventKind, Issue, IssueEvent, Promise
from notifications.emails import iso

# The dashboard's windows: promises settled (kept or broken) within this many days.
SHARE_WINDOWS = (30, 90)


def make(issue: Issue, event: IssueEvent, *, due_at: datetime, by, now: datetime) -> Promise:
    """Record the date a public update promised; the owner at this moment answers for it."""
    return Promise.objects.create(issue=issue, event=event, made_at=now, due_at=due_at, made_by=by,
                                  owner_id=issue.owner_id)


def settle(issue: Issue, *, by, now: datetime) -> tuple[int, int]:
    """A human public update (or the resolution) came at `now`: the open promises of the issue it meets
    are kept; any whose date already passed (the scan had not got to it yet) are broken. Returns (kept, broken)."""
    waiting = Promise.objects.filter(issue=issue, kept_at=None, broken_at=None)
    late = list(waiting.filter(due_at__lt=now).order_by("due_at", "pk"))
    met = list(waiting.filter(due_at__gte=now).order_by("due_at", "pk"))
    if late:
        Promise.objects.filter(pk__in=[promise.pk for promise in late]).update(broken_at=F("due_at"))
    if met:
        Promise.objects.filter(pk__in=[promise.pk for promise in met]).update(kept_at=now)
    IssueEvent.objects.bulk_create(
        [_event(promise, EventKind.PROMISE_BROKEN, by=None, at=now) for promise in late]
        + [_event(promise, EventKind.PROMISE_KEPT, by=by, at=now) for promise in met])
    return len(met), len(late)


def mark_broken(ids: list[int], *, now: datetime) -> int:
    """The promised date passed without a human update: broken at that date (the scan's claim is `ids`)."""
    promises = list(Promise.objects.filter(pk__in=ids, kept_at=None, broken_at=None).order_by("pk"))
    # The conditional UPDATE is the truth: a promise kept meanwhile is not broken.
    Promise.objects.filter(pk__in=[promise.pk for promise in promises], kept_at=None, broken_at=None).update(
        broken_at=F("due_at"))
    IssueEvent.objects.bulk_create([_event(promise, EventKind.PROMISE_BROKEN, by=None, at=now) for promise in promises])
    return len(promises)


def _event(promise: Promise, kind: str, *, by, at: datetime) -> IssueEvent:
    return IssueEvent(issue_id=promise.issue_id, kind=kind, actor=by, at=at, new_value=iso(promise.due_at),
                      data={"due_at": iso(promise.due_at), "made_at": iso(promise.made_at)})


# --- the figure ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """Promises settled within a window, and how many of them were kept."""

    kept: int = 0
    settled: int = 0

    @property
    def percent(self) -> int | None:
        """Rounded down, so 99.6 % kept never shows as all kept; None when nothing was promised."""
        return self.kept * 100 // self.settled if self.settled else None


@dataclass(frozen=True)
class Shares:
    """The share of promises kept over each of SHARE_WINDOWS (days)."""

    windows: tuple[tuple[int, Share], ...] = tuple((days, Share()) for days in SHARE_WINDOWS)

    def __iter__(self):
        return iter(self.windows)


# Nothing promised fell due: the default of a row.
NOTHING_SETTLED = Shares()


def settled_at() -> Coalesce:
    return Coalesce("kept_at", "broken_at")


def shares_by(promises: QuerySet, group: str, *, now: datetime) -> dict[object, Shares]:
    """The share kept per value of `group` (``"owner"``, ``"issue__customer"``), both windows in one query."""
    since = {days: now - timedelta(days=days) for days in SHARE_WINDOWS}
    longest = max(SHARE_WINDOWS)
    counts = {}
    for days in SHARE_WINDOWS:
        window = Q(settled__gt=since[days], settled__lte=now)
        counts[f"settled_{days}"] = Count("pk", filter=window)
        counts[f"kept_{days}"] = Count("pk", filter=window & Q(kept_at__isnull=False))
    rows = (promises.annotate(settled=settled_at()).filter(settled__gt=since[longest], settled__lte=now)
            .values(group).annotate(**counts).order_by())
    return {row[group]: Shares(tuple((days, Share(row[f"kept_{days}"], row[f"settled_{days}"]))
                                     for days in SHARE_WINDOWS))
            for row in rows}


def customer_share_columns(*, now: datetime) -> dict[str, Subquery]:
    """The customer page's figure as columns of the customer's own row (no query of its own):
    ``promises_kept_<days>`` and ``promises_settled_<days>``; read them back with ``customer_shares``."""
    columns = {}
    for days in SHARE_WINDOWS:
        settled = (Promise.objects.filter(issue__customer=OuterRef("pk")).annotate(settled=settled_at())
                   .filter(settled__gt=now - timedelta(days=days), settled__lte=now))
        for name, rows in (("settled", settled), ("kept", settled.filter(kept_at__isnull=False))):
            columns[f"promises_{name}_{days}"] = Coalesce(Subquery(
                rows.order_by().values("issue__customer").annotate(n=Count("pk")).values("n")), 0)
    return columns


def customer_shares(customer) -> Shares:
    return Shares(tuple((days, Share(getattr(customer, f"promises_kept_{days}"),
                                     getattr(customer, f"promises_settled_{days}"))) for days in SHARE_WINDOWS))
