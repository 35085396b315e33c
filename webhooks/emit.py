"""Emit webhook events: one delivery row per event and listening endpoint, written in the transaction of the
change that caused it (a rolled-back change sends nothing), named after its cause (emitting twice writes once).

Where events come from:
- ``issues.timeline.record`` tells ``event_recorded`` of every timeline event a service writes. The events of
  one change (one service call: an acknowledgement that also assigns, an update that also ends a wait) make one
  ``issue.updated``; the change's later steps and ``clocks_settled`` (its clocks recomputed) refresh the row, so
  what is frozen is the issue as the change left it. A customer's message is ``customer.replied``.
- The scan passes its at-risk reminders and breaches as plain values (``clock_events``).
- ``contact_undeliverable``, ``recipients_changed`` and the admin's ``send_test``.

When no endpoint listens this costs one small query per transaction (the list is kept for the transaction) and
writes nothing. Actions that may be undone (``issues.undo``) hold their deliveries like their emails.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from issues.models import Contact, EventKind, Issue, IssueEvent, Severity
from notifications import outbox
from webhooks import payloads
from webhooks.models import Delivery, Endpoint, EventType

DELIVER_TASK = "webhooks.tasks.deliver_webhooks"
# A held delivery waits a little past the undo window: an undo in its last second still finds it unsent.
HOLD_MARGIN = timedelta(seconds=2)
# A nudge timer waits at most this long; a delivery due later is the beat sweep's.
MAX_TIMER = timedelta(minutes=5)

# The timeline events that are news for receivers, and which event they make.
KIND_TO_TYPE = {
    EventKind.CREATED: EventType.ISSUE_OPENED,
    EventKind.ACKNOWLEDGED: EventType.ISSUE_UPDATED,
    EventKind.ASSIGNED: EventType.ISSUE_UPDATED,
    EventKind.SEVERITY_CHANGED: EventType.ISSUE_UPDATED,
    EventKind.STATUS_CHANGED: EventType.ISSUE_UPDATED,
    EventKind.PUBLIC_UPDATE: EventType.ISSUE_UPDATED,
    EventKind.INTERNAL_NOTE: EventType.ISSUE_UPDATED,
    EventKind.RESOLVED: EventType.ISSUE_UPDATED,
    EventKind.REOPENED: EventType.ISSUE_UPDATED,
    EventKind.DEADLINE_SET: EventType.ISSUE_UPDATED,
    EventKind.CUSTOMER_MESSAGE: EventType.CUSTOMER_REPLIED,
}


@dataclass(frozen=True)
class Event:
    """One event to emit. ``cause`` names what caused it; with the endpoint it is the row's unique key."""

    type: str
    cause: str
    at: datetime
    data: dict
    team_id: int | None
    issue_id: int | None = None
    event_id: int | None = None
    chat: bool = False  # chat endpoints post it: a red issue, a raise to red, a breach


@dataclass(frozen=True)
class Listener:
    """An active endpoint, as emission needs it."""

    pk: int
    events: frozenset[str]
    team_id: int | None
    chat: bool

    def hears(self, event: Event) -> bool:
        return (event.type in self.events and self.team_id in (None, event.team_id)
                and (event.chat or not self.chat))


def emit(events: list[Event]) -> int:
    """Write a delivery for each event and endpoint that listens to it; a key already there is kept as it is.
    Returns how many rows this call tried to write."""
    listeners = _scope_or_new().listeners
    rows = [_row(event, listener.pk) for event in events for listener in listeners if listener.hears(event)]
    if rows:
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        _nudge_after_commit(rows)
    return len(rows)


def _row(event: Event, endpoint_id: int) -> Delivery:
    return Delivery(endpoint_id=endpoint_id, event_type=event.type, issue_id=event.issue_id, event_id=event.event_id,
                    dedupe_key=f"{event.type}:{event.cause}:{endpoint_id}"[:255],
                    payload=payloads.envelope(event.type, event.at, event.data),
                    next_attempt_at=_due(event.at), created_at=event.at)


def _due(at: datetime) -> datetime:
    """At once, or when the undo window of the action that caused it has closed."""
    hold = outbox.current_hold()  # the quick action's hold, the same one its emails wait under
    return max(at, hold.until + HOLD_MARGIN) if hold is not None else at


# --- the transaction's scope: who listens, and the changes in progress --------------------------------------


@dataclass
class Change:
    """The events one service call writes about one issue, folded into one event of each type."""

    stack: tuple
    cause: str
    event_id: int
    at: datetime
    issue: Issue
    opened: bool = False
    changes: list[dict] = field(default_factory=list)
    message: dict | None = None
    written: dict[str, dict] = field(default_factory=dict)  # type -> payload last written
    keys: set[str] = field(default_factory=set)


@dataclass
class Scope:
    stack: tuple
    marker: Callable[[], None] | None
    _listeners: list[Listener] | None = None
    changes: dict[int, Change] = field(default_factory=dict)
    nudged: bool = False

    @property
    def listeners(self) -> list[Listener]:
        if self._listeners is None:
            self._listeners = [
                Listener(pk, frozenset(events or []), team_id, kind != "standard")
                for pk, events, team_id, kind in Endpoint.objects.filter(active=True).values_list(
                    "pk", "events", "team_id", "format")
            ]
        return self._listeners

    def alive(self) -> bool:
        """Still this transaction: its marker waits for the commit (a commit runs it, a rollback drops it, and so
        does rolling back the savepoint it was made in), and we are inside the savepoints it began in."""
        return (self.marker is not None and _inside(self.stack)
                and any(entry[1] is self.marker for entry in connection.run_on_commit))

    def change_of(self, issue_id: int) -> Change | None:
        change = self.changes.get(issue_id)
        return change if change is not None and _inside(change.stack) else None


_scope: ContextVar[Scope | None] = ContextVar("webhook_scope", default=None)


def _inside(stack: tuple) -> bool:
    return tuple(connection.savepoint_ids[:len(stack)]) == stack


def _scope_or_new() -> Scope:
    """This transaction's scope. Outside a transaction every call is its own scope."""
    scope = _scope.get()
    if scope is not None and scope.alive():
        return scope
    if not connection.in_atomic_block:
        return Scope(stack=(), marker=None)

    def marker() -> None:  # only its presence in the on-commit list matters
        pass

    transaction.on_commit(marker)
    scope = Scope(stack=tuple(connection.savepoint_ids), marker=marker)
    _scope.set(scope)
    return scope


def _anyone_listens(event_type: str) -> bool:
    return any(event_type in listener.events for listener in _scope_or_new().listeners)


def _live_scope() -> Scope | None:
    scope = _scope.get()
    return scope if scope is not None and scope.alive() else None


# --- from the timeline -------------------------------------------------------------------------------------


def event_recorded(issue: Issue, event: IssueEvent) -> None:
    """A service wrote a timeline event (``issues.timeline.record``): fold it into its change's events."""
    event_type = KIND_TO_TYPE.get(event.kind)
    scope = _live_scope()
    change = scope.change_of(issue.pk) if scope is not None else None
    if event_type is None and change is None:
        return  # not news, and nothing of this change to refresh: no query at all
    scope = scope or _scope_or_new()
    if not scope.listeners:
        return
    if change is None:
        change = Change(stack=tuple(connection.savepoint_ids), cause=f"event-{event.pk}", event_id=event.pk,
                        at=event.at, issue=issue)
        scope.changes[issue.pk] = change
    change.issue = issue
    if event_type == EventType.ISSUE_OPENED:
        change.opened = True
    elif event_type == EventType.ISSUE_UPDATED:
        change.changes.append(payloads.change_data(event))
    elif event_type == EventType.CUSTOMER_REPLIED:
        change.message = payloads.message_data(event)
    _write(scope, change)


def clocks_settled(issue: Issue) -> None:
    """The change recomputed the issue's clocks (``issues.timeline.record_clock_changes``): what its events
    froze is refreshed, so they carry the due times the change left."""
    scope = _live_scope()
    change = scope.change_of(issue.pk) if scope is not None else None
    if change is not None:
        change.issue = issue
        _write(scope, change)


def recipients_changed(issue: Issue, *, contacts: Iterable[Contact], by, at: datetime) -> None:
    """Who at the customer is copied changed (no timeline event says it): an ``issue.updated`` of its own."""
    if not _anyone_listens(EventType.ISSUE_UPDATED):
        return
    change = {"kind": "recipients_changed", "at": payloads.iso(at), "by": payloads.person(by), "public": False,
              "cc": [payloads.contact_data(contact) for contact in contacts]}
    emit([Event(EventType.ISSUE_UPDATED, f"recipients-{issue.pk}-{payloads.iso(at)}", at,
                {"issue": payloads.issue_data(issue), "changes": [change]}, issue.customer.team_id, issue.pk)])


def _events_of(change: Change) -> list[Event]:
    issue = change.issue
    team_id, base = issue.customer.team_id, {"issue": payloads.issue_data(issue)}

    def event(event_type: str, data: dict, chat: bool = False) -> Event:
        return Event(event_type, change.cause, change.at, data, team_id, issue.pk, change.event_id, chat)

    found = []
    if change.opened:  # what else happened while opening it (an owner) shows in the issue itself
        found.append(event(EventType.ISSUE_OPENED, base, chat=issue.severity == Severity.RED))
    elif change.changes:
        raised = any(entry["kind"] == EventKind.SEVERITY_CHANGED and entry.get("new") == Severity.RED
                     for entry in change.changes)
        found.append(event(EventType.ISSUE_UPDATED, {**base, "changes": change.changes}, chat=raised))
    if change.message is not None:
        found.append(event(EventType.CUSTOMER_REPLIED, {**base, "message": change.message}))
    return found


def _write(scope: Scope, change: Change) -> None:
    """Insert the rows this change now calls for; refresh the payload of those it wrote already."""
    fresh = []
    for event in _events_of(change):
        rows = [_row(event, listener.pk) for listener in scope.listeners if listener.hears(event)]
        payload = payloads.envelope(event.type, event.at, event.data)
        written = [row.dedupe_key for row in rows if row.dedupe_key in change.keys]
        if written and change.written.get(event.type) != payload:
            # Rows of a transaction not yet committed: no worker can have claimed them.
            Delivery.objects.filter(dedupe_key__in=written).update(payload=payload)
        fresh += [row for row in rows if row.dedupe_key not in change.keys]
        change.written[event.type] = payload
    if fresh:
        Delivery.objects.bulk_create(fresh, ignore_conflicts=True)
        change.keys |= {row.dedupe_key for row in fresh}
        _nudge_after_commit(fresh)


# --- from the scan, the bounces and the admin ----------------------------------------------------------------


def clock_events(event_type: str, rows: Iterable[tuple[int, str, datetime | None, object]], *,
                 now: datetime) -> int:
    """The scan's reminders (``clock.at_risk``) or breaches (``clock.breached``) of a batch, as plain values:
    (issue id, clock, due at, what names the clock's cycle: the Breach id, the warn key or the cycle's start).
    One query for the endpoints, and only if one listens, one for the issues and one insert."""
    rows = list(rows)
    if not rows or not _anyone_listens(event_type):
        return 0
    issues = Issue.objects.select_related("customer__team", "owner").in_bulk({row[0] for row in rows})
    return emit([
        Event(event_type, f"{issue_id}:{clock}:{_name(cycle)}", now,
              {"issue": payloads.issue_data(issues[issue_id]), "clock": {"name": clock, "due_at": payloads.iso(due)}},
              issues[issue_id].customer.team_id, issue_id, chat=event_type == EventType.CLOCK_BREACHED)
        for issue_id, clock, due, cycle in rows if issue_id in issues
    ])


def _name(cycle: object) -> str:
    return payloads.iso(cycle) if isinstance(cycle, datetime) else str(cycle)


def contact_undeliverable(contact: Contact, issues: list[Issue], *, now: datetime) -> int:
    """A contact's mail bounced for good: receivers hear once per marking, with the open issues it touches."""
    if not _anyone_listens(EventType.CONTACT_UNDELIVERABLE):
        return 0
    marked_at = contact.undeliverable_at or now
    customer = contact.customer
    return emit([Event(
        EventType.CONTACT_UNDELIVERABLE, f"contact-{contact.pk}-{payloads.iso(marked_at)}", now,
        {"contact": payloads.contact_data(contact), "reason": contact.undeliverable_reason,
         "customer": {"id": customer.pk, "name": customer.name, "code": customer.code},
         "team": {"id": customer.team_id, "name": customer.team.name},
         "open_issues": [payloads.issue_line(issue) for issue in issues]},
        customer.team_id)])


def send_test(endpoint: Endpoint, *, by, now: datetime | None = None) -> Delivery:
    """The admin's "send a test event": one delivery to this endpoint, whatever it subscribes to."""
    now = now or timezone.now()
    data = {"endpoint": {"id": endpoint.pk, "name": endpoint.name}, "sent_by": payloads.person(by)}
    with transaction.atomic():
        row = Delivery.objects.create(
            endpoint=endpoint, event_type=EventType.TEST,
            dedupe_key=f"{EventType.TEST}:{uuid.uuid4().hex}:{endpoint.pk}",
            payload=payloads.envelope(EventType.TEST, now, data), next_attempt_at=now, created_at=now)
        _nudge_after_commit([row])
    return row


# --- a worker is asked to deliver once the change is committed -----------------------------------------------


def _nudge_after_commit(rows: list[Delivery]) -> None:
    """As the email outbox does: after the commit, from a background thread; a held row when its hold ends.
    A lost nudge costs at most one beat sweep (WEBHOOK_SWEEP_SECONDS)."""
    if not settings.OUTBOX_NUDGE_WORKER:
        return
    later = max(row.next_attempt_at for row in rows)
    scope = _live_scope()
    if later > timezone.now():
        if later - timezone.now() < MAX_TIMER:
            transaction.on_commit(lambda: _nudge_at(later))
    elif scope is None or not scope.nudged:
        if scope is not None:
            scope.nudged = True
        transaction.on_commit(_nudger.request)


def _nudge_at(moment: datetime) -> None:
    timer = threading.Timer(max((moment - timezone.now()).total_seconds(), 0) + 0.5, _nudger.request)
    timer.daemon = True
    timer.start()


def _ask_a_worker() -> None:
    # By name: emission (inside the request) never imports the worker's side.
    current_app.send_task(DELIVER_TASK, retry=False)


_nudger = outbox.Nudger(publish=_ask_a_worker)
