"""Undo for the quick actions that email the customer: acknowledge (the button, ``a``, the bulk bar) and resolve
(the composer's "send and resolve", the old resolve form).

Such an action runs inside ``undoable``: one transaction that records what the issues looked like before, holds
every email the action queues for ``settings.UNDO_SECONDS`` (``notifications.outbox.held``; staff notices too,
so an undone action leaves no trace in anyone's inbox) and writes an ``Undo`` naming what changed. Until it
expires, the person who acted may take it all back with ``undo``: in one transaction, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Model
from django.utils import timezone
from django.utils.duration import duration_string
from django.utils.translation import gettext as _

from issues import services
from issues.models import (
    Breach,
    EventKind,
    Issue,
    IssueEvent,
    Promise,
    Undo,
    UndoAction,
)
from issues.reporting import rollups
from issues.timeline import record
from notifications import outbox
from notifications.models import OutboundEmail

# Fields an undo puts back even when they moved since (a colleague's note touches only this one).
LOOSE_FIELDS = {"updated_at"}


def window() -> timedelta:
    return timedelta(seconds=settings.UNDO_SECONDS)


@dataclass
class Taking:
    """What ``undoable`` hands its block: the Undo, once the block has run (None: nothing to undo)."""

    undo: Undo | None = None


@dataclass
class Batch:
    """Quick actions on several issues: those done, those refused with why, and one Undo for all."""

    done: list[Issue] = field(default_factory=list)
    refused: list[tuple[Issue, ValidationError]] = field(default_factory=list)
    undo: Undo | None = None


# --- the quick actions -----------------------------------------------------------------------------


def acknowledge(*, issue: Issue, by, now: datetime | None = None) -> Undo | None:
    """``services.acknowledge``, its emails held while it may be undone."""
    now = now or timezone.now()
    with undoable(UndoAction.ACKNOWLEDGE, issues=[issue], by=by, now=now) as taking:
        services.acknowledge(issue=issue, by=by, now=now)
    return taking.undo


def acknowledge_all(*, issues: list[Issue], by, now: datetime | None = None) -> Batch:
    """The bulk bar: each issue acknowledged on its own (what one refuses does not stop the others), one Undo
    for the whole batch."""
    now = now or timezone.now()
    batch = Batch()
    with undoable(UndoAction.ACKNOWLEDGE, issues=issues, by=by, now=now) as taking:
        for issue in issues:
            try:
                services.acknowledge(issue=issue, by=by, now=now)
            except ValidationError as error:
                batch.refused.append((issue, error))
            else:
                batch.done.append(issue)
    batch.undo = taking.undo
    return batch


def resolve(*, issue: Issue, by, body: str, now: datetime | None = None, token: str | None = None) -> Undo | None:
    """``services.resolve``, its email (what was done) held while it may be undone."""
    now = now or timezone.now()
    with undoable(UndoAction.RESOLVE, issues=[issue], by=by, now=now) as taking:
        services.resolve(issue=issue, by=by, body=body, now=now, token=token)
    return taking.undo


@contextmanager
def undoable(action: str, *, issues: list[Issue], by, now: datetime) -> Iterator[Taking]:
    """Run a quick action in one transaction, its emails held, and record what it changed. With
    UNDO_SECONDS at 0 the action runs as it is: its emails leave at once and nothing may be undone."""
    taking = Taking()
    if settings.UNDO_SECONDS <= 0:
        with transaction.atomic():
            yield taking
        return
    until = now + window()
    with transaction.atomic():
        before = Before.take([issue.pk for issue in issues])
        with outbox.held(until=until) as hold:
            yield taking
        taking.undo = _record(action, before, hold.keys, by=by, now=now, until=until)


# --- what an action changed -------------------------------------------------------------------------


def stored(obj: Model, name: str) -> object:
    """A column's value as JSON keeps it, comparable whichever way it was read (datetimes in UTC)."""
    value = obj._meta.get_field(name).value_from_object(obj)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, timedelta):
        return duration_string(value)
    return value


ISSUE_FIELDS = [f.attname for f in Issue._meta.concrete_fields if not f.primary_key]


@dataclass
class Before:
    """The issues (locked, in id order, so two batches never wait on each other), their open breaches and
    unsettled promises, and the last event, before the action."""

    issues: dict[int, dict[str, object]]
    open_breaches: set[int]
    open_promises: set[int]
    promises: set[int]
    last_event: int

    @classmethod
    def take(cls, ids: list[int]) -> Before:
        locked = Issue.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        promises = list(Promise.objects.filter(issue__in=ids).values_list("pk", "kept_at", "broken_at"))
        return cls(
            issues={issue.pk: {name: stored(issue, name) for name in ISSUE_FIELDS} for issue in locked},
            open_breaches=set(Breach.objects.filter(issue__in=ids, cleared_at=None).values_list("pk", flat=True)),
            open_promises={pk for pk, kept, broken in promises if kept is None and broken is None},
            promises={pk for pk, _kept, _broken in promises},
            last_event=IssueEvent.objects.aggregate(last=Max("pk"))["last"] or 0,
        )


def _record(action: str, before: Before, keys: list[str], *, by, now: datetime, until: datetime) -> Undo | None:
    ids = list(before.issues)
    changes: dict[str, dict[str, list]] = {}
    for issue in Issue.objects.filter(pk__in=ids):
        was = before.issues[issue.pk]
        changed = {name: [was[name], stored(issue, name)] for name in ISSUE_FIELDS if stored(issue, name) != was[name]}
        if changed:
            changes[str(issue.pk)] = changed
    # The action wrote its events at its instant; a delivery noting a sent email meanwhile is not its doing.
    events = list(IssueEvent.objects.filter(issue__in=ids, pk__gt=before.last_event, at=now)
                  .exclude(kind=EventKind.EMAIL_SENT).order_by("pk"))
    if not changes and not events and not keys:
        return None
    promises = list(Promise.objects.filter(issue__in=ids).values_list("pk", "kept_at", "broken_at"))
    undo = Undo.objects.create(
        cause=f"{action}:{by.pk}:{now.astimezone(UTC).isoformat()}:{','.join(map(str, sorted(ids)))}"[:255],
        action=action, actor=by, at=now, expires_at=until,
        changes={
            "issues": changes,
            "breaches": sorted(Breach.objects.filter(pk__in=before.open_breaches, cleared_at__isnull=False)
                               .values_list("pk", flat=True)),
            "promises_settled": sorted(pk for pk, kept, broken in promises
                                       if pk in before.open_promises and (kept or broken)),
            "promises_made": sorted(pk for pk, _kept, _broken in promises if pk not in before.promises),
        },
        events=[_copy(event) for event in events],
        emails=list(OutboundEmail.objects.filter(dedupe_key__in=keys).order_by("pk")
                    .values("recipient", "kind", key=F("dedupe_key"))),
    )
    undo.issues.set(sorted({int(pk) for pk in changes} | {event.issue_id for event in events}))
    return undo


def _copy(event: IssueEvent) -> dict:
    return {"id": event.pk, "issue": event.issue_id, "kind": event.kind, "public": event.public,
            "actor": event.actor_id, "at": event.at.astimezone(UTC).isoformat(), "body": event.body,
            "old": event.old_value, "new": event.new_value, "data": event.data}


# --- taking it back ---------------------------------------------------------------------------------


def undo(*, undo_id: int, by, now: datetime | None = None) -> Undo:
    """Take a quick action back: every email it queued, its timeline events, and the issues, breaches and
    promises as they were; one internal line on each issue says so. All or nothing: when an email has
    left (or is leaving), or someone changed an issue since, nothing changes and the error says why.
    Undoing twice is undoing once; only the person who acted may, and only before the window closes."""
    now = now or timezone.now()
    with transaction.atomic():
        taken = Undo.objects.select_for_update().filter(pk=undo_id).first()
        if taken is None or taken.actor_id != getattr(by, "pk", None):
            raise ValidationError(_("Only the person who acted can undo it."))
        if taken.undone_at is not None:
            return taken
        if now >= taken.expires_at:
            raise ValidationError(_("Too late to undo: the time to undo it is over and the emails are on their way."))
        issues = list(Issue.objects.select_for_update().filter(pk__in=_issue_ids(taken)).order_by("pk"))
        _check_unchanged(taken, issues)
        _take_back_emails(taken)
        # The dashboard's compliance counted what is taken back: uncount it while the timeline still says it.
        rollups.taken_back([event["id"] for event in taken.events], taken.changes.get("breaches", []),
                           cleared_at=taken.at)
        _restore(taken, issues)
        IssueEvent.objects.filter(pk__in=[event["id"] for event in taken.events]).delete()
        for issue in issues:
            removed = [event["kind"] for event in taken.events if event["issue"] == issue.pk]
            record(issue, EventKind.UNDONE, by=by, at=now, new=taken.action,
                   data={"undo": taken.pk, "removed": removed})
        Undo.objects.filter(pk=taken.pk, undone_at=None).update(undone_at=now)
        taken.undone_at = now
    return taken


def _issue_ids(taken: Undo) -> list[int]:
    return sorted({int(pk) for pk in taken.changes.get("issues", {})} | {event["issue"] for event in taken.events})


def _check_unchanged(taken: Undo, issues: list[Issue]) -> None:
    """Someone changed what the action changed since (a colleague reassigned it, the customer answered):
    putting it back would undo their change too."""
    for issue in issues:
        for name, (_before, after) in taken.changes["issues"].get(str(issue.pk), {}).items():
            if name not in LOOSE_FIELDS and stored(issue, name) != after:
                raise ValidationError(_("Cannot undo: %(reference)s has changed since. Change it back by hand.")
                                      % {"reference": issue.reference})


def _take_back_emails(taken: Undo) -> None:
    """The conditional UPDATE is the claim: only an email still waiting and held by no worker is taken back.
    Fewer taken than held means one has left or is being sent: the whole undo is refused (the transaction
    rolls the claim back). Taken, they are deleted, so doing the action again emails again (unique keys)."""
    keys = [email["key"] for email in taken.emails]
    if not keys:
        return
    waiting = OutboundEmail.objects.filter(dedupe_key__in=keys, claim_token=None,
                                           status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.CANCELLED])
    claimed = waiting.update(status=OutboundEmail.Status.CANCELLED, last_error="Undone before it was sent.")
    if claimed != len(keys):
        gone = (OutboundEmail.objects.filter(dedupe_key__in=keys).exclude(status=OutboundEmail.Status.CANCELLED)
                .values_list("recipient", flat=True).first())
        raise ValidationError(_("Too late to undo: the email to %(recipient)s has gone.")
                              % {"recipient": gone or _("the customer")})
    OutboundEmail.objects.filter(dedupe_key__in=keys, status=OutboundEmail.Status.CANCELLED).delete()


def _restore(taken: Undo, issues: list[Issue]) -> None:
    for issue in issues:
        changed = taken.changes["issues"].get(str(issue.pk), {})
        for name, (before, after) in changed.items():
            if name in LOOSE_FIELDS and stored(issue, name) != after:
                continue  # moved on since: keep the later value
            setattr(issue, name, Issue._meta.get_field(name).to_python(before))
        if changed:
            issue.save(update_fields=list(changed))
    Breach.objects.filter(pk__in=taken.changes.get("breaches", []), cleared_at=taken.at).update(cleared_at=None)
    Promise.objects.filter(pk__in=taken.changes.get("promises_settled", [])).update(kept_at=None, broken_at=None)
    Promise.objects.filter(pk__in=taken.changes.get("promises_made", [])).delete()
