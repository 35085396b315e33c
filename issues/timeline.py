"""The issue's timeline as the services write it: one event per change, and the clocks' own story."""

from __future__ import annotations

from datetime import datetime

from issues import sla, text
from issues.models import Clock, EventKind, Issue, IssueEvent
from webhooks import emit as webhooks


def record_clock_changes(issue: Issue, *, before: sla.Clocks, by, at: datetime) -> None:
    """Write the clock's own story on the timeline: started, rescheduled, paused, resumed, stopped."""
    IssueEvent.objects.bulk_create(clock_events(issue, before=before, by=by, at=at))
    webhooks.clocks_settled(issue)  # the change's webhook events carry the clocks it left


def clock_events(issue: Issue, *, before: sla.Clocks, by, at: datetime) -> list[IssueEvent]:
    after = issue.stored_clocks()
    events = []
    for clock, old, new in (
        (Clock.ACKNOWLEDGE, before.acknowledge, after.acknowledge),
        (Clock.UPDATE, before.update, after.update),
    ):
        kind = clock_transition(old, new)
        if kind is not None:
            events.append(IssueEvent(issue=issue, kind=kind, actor=by, at=at, new_value=clock,
                                     data={"clock": clock, "due_at": new.due_at.isoformat() if new.due_at else None}))
    return events


def clock_transition(old: sla.Clock, new: sla.Clock) -> str | None:
    running_before = old.started_at is not None
    running_now = new.started_at is not None
    if not running_now:
        return EventKind.CLOCK_STOPPED if running_before else None
    if not running_before or old.started_at != new.started_at:
        return EventKind.CLOCK_PAUSED if new.paused else EventKind.CLOCK_STARTED
    if new.paused != old.paused:
        return EventKind.CLOCK_PAUSED if new.paused else EventKind.CLOCK_RESUMED
    if new.due_at != old.due_at:
        return EventKind.CLOCK_RESCHEDULED
    return None


def record(issue: Issue, kind: str, *, by, at: datetime, public: bool = False, body: str = "",
            old: str = "", new: str = "", data: dict | None = None, submission: str | None = None) -> IssueEvent:
    # A value may be a person's full name, which can be longer than its column (first and last names
    # are 150 characters each): the timeline keeps its start rather than failing the change.
    size = IssueEvent._meta.get_field("new_value").max_length
    event = IssueEvent.objects.create(
        issue=issue, kind=kind, actor=by, at=at, public=public, body=body,
        old_value=(old or "")[:size], new_value=(new or "")[:size], data=data or {}, submission=submission,
    )
    webhooks.event_recorded(issue, event)  # every service's change reaches webhook receivers from here
    return event


person_name = text.person_name  # the one home: issues.text
