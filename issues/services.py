"""Every state change of an issue, one function each.

Each function runs in one transaction: it checks the input (raising ``ValidationError`` before anything
is written), changes the issue, appends its timeline events, recomputes both clocks and enqueues the
emails the change calls for. Nothing else writes an Issue.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from issues import checks, deadlines, promises, sla
from issues.clocks import ClockSetups, clock_setup, recompute_clocks
from issues.models import (
    IS_OPEN,
    OPEN_STATUSES,
    Breach,
    Clock,
    Contact,
    Customer,
    EventKind,
    Issue,
    IssueEvent,
    Severity,
    Status,
)
from issues.models.issue import COMPUTED_COLUMNS
from issues.reporting import rollups
from issues.timeline import clock_events, person_name, record, record_clock_changes
from notifications import emails
from webhooks import emit as webhooks

RECOMPUTE_BATCH = 500

# Where change_status may move an issue. Resolving goes through resolve(), reopening through reopen(), and
# waiting on the customer through post_update(wait=True): the customer is told what we need from them.
STATUS_MOVES: dict[str, set[str]] = {
    Status.NEW: {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED},
    Status.ACKNOWLEDGED: {Status.IN_PROGRESS, Status.RESOLVED},
    Status.IN_PROGRESS: {Status.ACKNOWLEDGED, Status.RESOLVED},
    Status.WAITING_ON_CUSTOMER: {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED},
    Status.RESOLVED: {Status.CLOSED},
    Status.CLOSED: set(),
}


def open_issue(
    *,
    customer: Customer,
    title: str,
    description: str = "",
    severity: str = Severity.BLUE,
    reporter: Contact | None = None,
    owner: AbstractBaseUser | None = None,
    by: AbstractBaseUser,
    now: datetime | None = None,
    token: str | None = None,
    cc: Iterable[Contact] = (),
) -> Issue:
    """Record a customer's issue and start its acknowledge clock.

    Its recipients are the reporter, the contacts in ``cc`` and the contacts who follow all the
    customer's issues. ``token`` is the form's one-time token: the same form sent twice opens one issue,
    and the second call returns it.
    """
    now = now or timezone.now()
    submission = _submission(token, by)
    if (first := _first_written(submission)) is not None:
        return first.issue
    title = checks.clean_title(title)
    description = checks.clean_message(description, field="description")
    checks.check_severity(severity)
    if reporter is not None and reporter.customer_id != customer.pk:
        raise ValidationError({"reporter": _("This contact belongs to another customer.")})
    cc = _copied_contacts(customer, cc)
    if owner is not None:
        checks.check_owner(customer, owner)
    try:
        issue = _open(customer=customer, title=title, description=description, severity=severity, reporter=reporter,
                      owner=owner, by=by, now=now, submission=submission, cc=cc)
    except IntegrityError:
        # The same form, sent again while the first was being saved, lost the race for its token.
        if (first := _first_written(submission)) is None:
            raise
        return first.issue
    return issue


def _open(*, customer: Customer, title: str, description: str, severity: str, reporter: Contact | None,
          owner: AbstractBaseUser | None, by: AbstractBaseUser, now: datetime, submission: str | None,
          cc: list[Contact]) -> Issue:
    with transaction.atomic():
        issue = Issue(
            customer=customer,
            reporter=reporter,
            title=title,
            description=description.strip(),
            severity=severity,
            owner=owner,
            created_by=by,
            created_at=now,
            updated_at=now,
            ack_started_at=now,
        )
        recompute_clocks(issue)
        issue.save()
        issue.cc.set(cc)
        record(issue, EventKind.CREATED, by=by, at=now, public=True, new=severity, body=issue.description,
               submission=submission)
        record_clock_changes(issue, before=sla.Clocks(sla.STOPPED, sla.STOPPED), by=by, at=now)
        emails.issue_opened(issue, by=by)
        if owner is not None:
            emails.assigned(record(issue, EventKind.ASSIGNED, by=by, at=now, new=person_name(owner)))
    return issue


def acknowledge(*, issue: Issue, by: AbstractBaseUser, now: datetime | None = None) -> Issue:
    """Stop the acknowledge clock, start the update clock and tell the customer who owns the issue."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock(issue)
        checks.check_open(issue)
        if issue.acknowledged_at is not None:
            raise ValidationError(_("This issue is already acknowledged."))
        _change(issue, by=by, now=now, apply=lambda: _mark_acknowledged(issue, by=by, now=now))
        _heard(issue, emails.acknowledged(issue, now=now), now=now)
        issue.save()
    return issue


def assign(*, issue: Issue, owner: AbstractBaseUser, by: AbstractBaseUser, now: datetime | None = None,
           seen: str | None = None) -> Issue:
    """Give the issue a new owner; the owner stays the customer's contact from then on.

    ``seen`` is the owner the person's page showed (``checks.seen_value``): a change since is not overwritten.
    """
    now = now or timezone.now()
    with transaction.atomic():
        _lock(issue)
        checks.check_not_closed(issue)
        checks.check_owner(issue.customer, owner)
        if owner.pk == issue.owner_id:
            return issue
        checks.check_seen(issue, "owner", seen)
        previous = issue.owner
        issue.owner = owner
        issue.updated_at = now
        issue.save()
        emails.assigned(record(issue, EventKind.ASSIGNED, by=by, at=now, old=person_name(previous), new=person_name(owner)))
    return issue


def change_severity(*, issue: Issue, severity: str, by: AbstractBaseUser, now: datetime | None = None,
                    seen: str | None = None) -> Issue:
    """Regrade the issue; both clocks are recomputed from their start, so a raise may breach at once.
    ``seen``: the severity the person's page showed; a change since is not overwritten."""
    now = now or timezone.now()
    checks.check_severity(severity)
    with transaction.atomic():
        _lock(issue)
        checks.check_not_closed(issue)
        if severity == issue.severity:
            return issue
        checks.check_seen(issue, "severity", seen)
        previous = issue.severity

        def regrade() -> None:
            issue.severity = severity
            record(issue, EventKind.SEVERITY_CHANGED, by=by, at=now, old=previous, new=severity)

        _change(issue, by=by, now=now, apply=regrade)
        rollups.regraded(issue, previous=previous)  # compliance counts an issue's history under its severity
        issue.save()
        emails.severity_changed(issue, previous_severity=previous, by=by)
    return issue


def change_status(*, issue: Issue, status: str, by: AbstractBaseUser, now: datetime | None = None,
                  seen: str | None = None) -> Issue:
    """Move the issue along its workflow; leaving *waiting on the customer* resumes the update clock.
    ``seen``: the status the person's page showed; a change since is not overwritten."""
    now = now or timezone.now()
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status “%(status)s”.") % {"status": status}})
    if status == Status.WAITING_ON_CUSTOMER:
        raise ValidationError({"status": _("To wait on the customer, tell them what we need: write it under "
                                           "“Write to the customer” and choose “Send and wait”.")})
    if status == Status.RESOLVED:
        return resolve(issue=issue, by=by, now=now)
    with transaction.atomic():
        _lock(issue)
        if status == issue.status:
            return issue
        checks.check_seen(issue, "status", seen)
        if status not in STATUS_MOVES[issue.status]:
            raise ValidationError(
                {"status": _("An issue cannot move from “%(old)s” to “%(new)s”.")
                 % {"old": Status(issue.status).label, "new": Status(status).label}}
            )
        unacknowledged = issue.acknowledged_at is None
        _change(issue, by=by, now=now, apply=lambda: _move(issue, status, by=by, now=now))
        if unacknowledged and issue.acknowledged_at is not None:
            _heard(issue, emails.acknowledged(issue, now=now), now=now)
        issue.save()
    return issue


def post_update(
    *,
    issue: Issue,
    body: str,
    public: bool,
    by: AbstractBaseUser,
    promised_update_at: datetime | None = None,
    now: datetime | None = None,
    token: str | None = None,
    wait: bool = False,
) -> IssueEvent:
    """Write to the customer (public) or to colleagues (internal note).

    ``wait``: "send and wait": the update asks the customer for something and the issue waits on them (the
    update clock pauses; the scan reminds them once and ends the wait after ``sla.WAITING_LIMIT``). A promise
    still ahead is kept unless the update makes a new one. A plain update on a waiting issue ends the wait.

    A public update acknowledges a new issue and starts a fresh update cycle; it may promise the
    next update by a date no later than the policy's interval. A public update none of the issue's
    recipients receives is recorded, but it is not news: it neither acknowledges nor starts a cycle nor
    clears a breach, and its event says nobody received it (``data["received_by"] == 0``), so the page
    tells the owner to call. ``token`` is the form's one-time token:
    the same form sent twice writes (and emails) once, and the second call returns the first event.
    """
    submission = _submission(token, by)
    if (first := _first_written(submission)) is not None:
        return first
    try:
        return _write_update(issue=issue, body=body, public=public, by=by, promised_update_at=promised_update_at,
                             now=now or timezone.now(), submission=submission, wait=wait)
    except IntegrityError:
        if (first := _first_written(submission)) is None:
            raise
        return first


def _write_update(*, issue: Issue, body: str, public: bool, by: AbstractBaseUser,
                  promised_update_at: datetime | None, now: datetime, submission: str | None,
                  wait: bool = False) -> IssueEvent:
    body = checks.clean_message(body, required=(_("Write what you need from the customer.") if wait else
                                                _("Write the update the customer will read.")) if public
                                else _("Write the note."))
    if promised_update_at is not None and not public:
        raise ValidationError({"promised_update_at": _("Only a public update can promise the customer a date.")})
    if wait and not public:
        raise ValidationError(_("Only a message to the customer can wait for their answer."))
    with transaction.atomic():
        _lock(issue)
        checks.check_not_closed(issue)
        if promised_update_at is not None:
            checks.check_promise(issue, promised_update_at, now=now)
        if not public:
            issue.updated_at = now
            issue.save(update_fields=["updated_at"])
            return record(issue, EventKind.INTERNAL_NOTE, by=by, at=now, body=body, submission=submission)
        to = emails.update_recipients([issue])[issue.pk]
        if wait:
            checks.check_can_wait(issue, to)
        kept = _kept_promise(issue, now=now) if wait and promised_update_at is None else None
        event = None

        def publish() -> None:
            nonlocal event
            news = issue.is_open and bool(to)
            if news and issue.acknowledged_at is None:
                # The update itself tells the customer someone is on it: no separate acknowledgement email.
                _mark_acknowledged(issue, by=by, now=now)
            if news:
                _wait_or_go_on(issue, wait=wait, by=by, now=now)
            promise = promised_update_at or kept
            data = {"promised_update_at": promise.isoformat()} if promise else {}
            if kept:
                data["kept_promise"] = True
            if wait:
                data["asks"] = True
            event = record(issue, EventKind.PUBLIC_UPDATE, by=by, at=now, public=True, body=body,
                           data={**data, "received_by": len(to)}, submission=submission)
            issue.last_public_update_at = now
            if news:
                _start_update_cycle(issue, now=now, promised_update_at=promise)
                _clear_breaches(issue, Clock.UPDATE, by=by, now=now)
                # This update keeps (or comes too late for) what was promised, and may promise anew.
                promises.settle(issue, by=by, now=now)
                if promise:
                    promises.make(issue, event, due_at=promise, by=by, now=now)

        _change(issue, by=by, now=now, apply=publish)
        _heard(issue, emails.public_update(event, to=to), now=now)
        issue.save()
    return event


def _kept_promise(issue: Issue, *, now: datetime) -> datetime | None:
    """The date the customer was promised news by, while still ahead: asking them something keeps it."""
    promised = issue.promised_update_at
    return promised if promised is not None and promised > now and issue.update_started_at is not None else None


def _wait_or_go_on(issue: Issue, *, wait: bool, by, now: datetime) -> None:
    """After an update the customer receives: send and wait moves the issue to waiting on the customer; a
    plain update on a waiting issue means we go on without their answer."""
    if wait and issue.status != Status.WAITING_ON_CUSTOMER:
        _set_status(issue, Status.WAITING_ON_CUSTOMER, by=by, now=now)
    elif not wait and issue.status == Status.WAITING_ON_CUSTOMER:
        _set_status(issue, Status.IN_PROGRESS, by=by, now=now)


def _set_status(issue: Issue, status: str, *, by, now: datetime) -> None:
    record(issue, EventKind.STATUS_CHANGED, by=by, at=now, public=True, old=issue.status, new=status)
    issue.status = status


def change_recipients(*, issue: Issue, cc: Iterable[Contact], by: AbstractBaseUser,
                      now: datetime | None = None) -> Issue:
    """Choose who at the customer is copied on the issue (besides its reporter and the contacts who follow
    all the customer's issues); from the next email on, they receive its emails."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock(issue)
        checks.check_not_closed(issue)
        issue.cc.set(_copied_contacts(issue.customer, cc))
        issue.updated_at = now
        issue.save(update_fields=["updated_at"])
        webhooks.recipients_changed(issue, contacts=issue.cc.all(), by=by, at=now)  # no timeline event says it
    return issue


def _copied_contacts(customer: Customer, cc: Iterable[Contact]) -> list[Contact]:
    cc = list(cc)
    if any(contact.customer_id != customer.pk for contact in cc):
        raise ValidationError({"cc": _("This contact belongs to another customer.")})
    return cc


def resolve(*, issue: Issue, by: AbstractBaseUser, body: str = "", now: datetime | None = None,
            token: str | None = None) -> Issue:
    """Stop both clocks and tell the customer what was done and how to reopen. Saying what was done is
    required: a "resolved" email without it tells the customer nothing. ``token``: the form's one-time token
    (the same form sent twice resolves once)."""
    now = now or timezone.now()
    body = checks.clean_message(body, required=_("Say what was done: the customer reads it in the email "
                                                 "that tells them the issue is resolved."))
    submission = _submission(token, by)
    if (first := _first_written(submission)) is not None:
        return first.issue
    try:
        return _resolve(issue, by=by, body=body, now=now, submission=submission)
    except IntegrityError:
        if (first := _first_written(submission)) is None:
            raise
        return first.issue


def _resolve(issue: Issue, *, by: AbstractBaseUser, body: str, now: datetime, submission: str | None) -> Issue:
    with transaction.atomic():
        _lock(issue)
        if issue.status == Status.CLOSED:
            raise ValidationError(_("This issue is closed and cannot be resolved again."))
        if issue.status == Status.RESOLVED:
            raise ValidationError(_("This issue is already resolved."))

        def close_out() -> None:
            record(issue, EventKind.RESOLVED, by=by, at=now, public=True, old=issue.status, body=body.strip(),
                   submission=submission)
            issue.status = Status.RESOLVED
            issue.resolved_at = now
            promises.settle(issue, by=by, now=now)
            _resume(issue, now=now)
            for clock in Clock.values:
                _clear_breaches(issue, clock, by=by, now=now)

        _change(issue, by=by, now=now, apply=close_out)
        _heard(issue, emails.resolved(issue, body=body.strip()), now=now)
        issue.save()
    return issue


def reopen(*, issue: Issue, by: AbstractBaseUser, now: datetime | None = None) -> Issue:
    """Bring a resolved issue back: a fresh acknowledge clock, never an instant overdue email."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock(issue)
        if issue.status != Status.RESOLVED:
            raise ValidationError(_("Only a resolved issue can be reopened."))

        event = None

        def restart() -> None:
            nonlocal event
            event = _reopen(issue, by=by, now=now)

        _change(issue, by=by, now=now, apply=restart)
        issue.save()
        emails.reopened(event)
    return issue


def _reopen(issue: Issue, *, by, now: datetime) -> IssueEvent:
    """Back to new with a fresh acknowledge clock (by staff, or by the customer's answer)."""
    issue.status = Status.NEW
    issue.resolved_at = None
    _restart_acknowledge_clock(issue, now=now)
    deadlines.rearm(issue, calendar=deadlines.team_calendar(issue), now=now)
    issue.update_started_at = issue.promised_update_at = issue.update_paused_at = None
    _reset_update_cycle_flags(issue)
    return record(issue, EventKind.REOPENED, by=by, at=now, public=True)


def _restart_acknowledge_clock(issue: Issue, *, now: datetime) -> None:
    """A new acknowledge cycle: a person must answer within the severity's acknowledge window."""
    issue.ack_started_at = now
    issue.acknowledged_at = None
    issue.start_clock_cycle(Clock.ACKNOWLEDGE)


def recompute_open_clocks(*, issues: QuerySet, by: AbstractBaseUser, now: datetime | None = None) -> int:
    """After an admin edits a policy or a calendar: move the due times of the open issues it governs, and the
    owner's warning one working day before a customer's deadline not yet warned about.

    Like a severity change, cycles are not restarted; each moved due time is noted on the timeline.
    Returns how many issues' clocks moved.
    """
    now = now or timezone.now()
    ids = list(issues.filter(IS_OPEN).order_by("pk").values_list("pk", flat=True))
    moved = 0
    for first in range(0, len(ids), RECOMPUTE_BATCH):
        with transaction.atomic():
            batch = list(Issue.objects.filter(pk__in=ids[first:first + RECOMPUTE_BATCH])
                         .select_for_update(of=("self",)).select_related("customer__team"))
            setups = ClockSetups(batch)
            events = []
            for issue in batch:
                before = issue.stored_clocks()
                issue.apply_clocks(sla.compute(issue.clock_facts(), *setups(issue)))
                deadlines.rearm(issue, calendar=setups.team_calendar(issue), now=now)
                events += clock_events(issue, before=before, by=by, at=now)
            Issue.objects.bulk_update(batch, [*COMPUTED_COLUMNS, "deadline_warn_at"])
            IssueEvent.objects.bulk_create(events)
            moved += len({event.issue_id for event in events})
    return moved


# --- the pieces every service shares -------------------------------------------------------------


def _submission(token: str | None, by: AbstractBaseUser) -> str | None:
    """Name a form sending after its author and its one-time token (a token is only ever its author's)."""
    return f"{by.pk}:{token}" if token else None


def _first_written(submission: str | None) -> IssueEvent | None:
    """The event an earlier sending of the same form wrote, if any."""
    if submission is None:
        return None
    return IssueEvent.objects.select_related("issue").filter(submission=submission).first()


def _lock(issue: Issue) -> None:
    """Serialise changes to one issue: re-read it under a row lock inside the transaction."""
    issue.refresh_from_db(from_queryset=Issue.objects.select_for_update(of=("self",)))


def _change(issue: Issue, *, by, now: datetime, apply) -> None:
    """Apply a change, recompute both clocks and write the clock events the change caused."""
    before = issue.stored_clocks()
    apply()
    issue.updated_at = now
    recompute_clocks(issue)
    record_clock_changes(issue, before=before, by=by, at=now)
    rollups.cycles_ended(issue, before=before, at=now)  # the dashboard's compliance, in this transaction


def _mark_acknowledged(issue: Issue, *, by, now: datetime) -> None:
    issue.acknowledged_at = now
    if issue.owner_id is None and issue.customer.team.has_person(by):
        issue.owner = by
        record(issue, EventKind.ASSIGNED, by=by, at=now, new=person_name(by))
    if issue.status == Status.NEW:
        issue.status = Status.ACKNOWLEDGED
    _start_update_cycle(issue, now=now)
    record(issue, EventKind.ACKNOWLEDGED, by=by, at=now, public=True)
    _clear_breaches(issue, Clock.ACKNOWLEDGE, by=by, now=now)


def _heard(issue: Issue, queued: int, *, now: datetime) -> None:
    """The customer last heard from us when an email to one of their reachable contacts was queued; an
    update nobody receives is not news."""
    if queued:
        issue.customer_last_heard_at = now


def _move(issue: Issue, status: str, *, by, now: datetime) -> None:
    if issue.acknowledged_at is None and status in OPEN_STATUSES:
        # Starting work on an issue acknowledges it: the customer learns who owns it.
        _mark_acknowledged(issue, by=by, now=now)
    previous = issue.status
    if previous == status:
        return
    issue.status = status
    record(issue, EventKind.STATUS_CHANGED, by=by, at=now, public=True, old=previous, new=status)
    if status == Status.CLOSED:
        issue.closed_at = now
    if previous == Status.WAITING_ON_CUSTOMER:
        _resume(issue, now=now)


def _resume(issue: Issue, *, now: datetime, calendar: sla.Calendar | None = None) -> None:
    """End a pause, banking the paused time so the clock resumes with what was left. ``calendar``: the
    issue's clock calendar, when the caller has it already (the scan, for a batch)."""
    if issue.update_paused_at is None:
        return
    if calendar is None:
        _, calendar = clock_setup(issue)
    issue.update_paused_for += calendar.elapsed(issue.update_paused_at, now)
    issue.update_paused_calendar_time += sla.AROUND_THE_CLOCK.elapsed(issue.update_paused_at, now)
    issue.update_paused_at = None


def _start_update_cycle(issue: Issue, *, now: datetime, promised_update_at: datetime | None = None) -> None:
    issue.update_started_at = now
    issue.promised_update_at = promised_update_at
    # A new cycle that begins while we wait on the customer begins paused.
    issue.update_paused_at = now if issue.status == Status.WAITING_ON_CUSTOMER else None
    _reset_update_cycle_flags(issue)


def _reset_update_cycle_flags(issue: Issue) -> None:
    issue.update_paused_for = sla.ZERO
    issue.update_paused_calendar_time = sla.ZERO
    issue.start_clock_cycle(Clock.UPDATE)
    issue.auto_emails_sent = 0
    issue.last_auto_email_at = None
    issue.waiting_reminded_at = None


def _clear_breaches(issue: Issue, clock: str, *, by, now: datetime) -> None:
    cleared = Breach.objects.filter(issue=issue, clock=clock, cleared_at=None).update(cleared_at=now)
    if cleared:
        record(issue, EventKind.BREACH_CLEARED, by=by, at=now, new=clock)
        rollups.breaches_cleared(issue, clock, cleared, at=now)


def set_deadline(*, issue: Issue, deadline: datetime | None, by: AbstractBaseUser | None, now: datetime | None = None,
                 seen: str | None = None, contact: Contact | None = None, token: str | None = None) -> Issue:
    """Record the date the customer needs the issue solved by (None: they named none), and when whoever must
    act is warned: one working day before it (``issues.deadlines``). The clocks do not move: the deadline
    weighs in urgency, it does not replace the promise of news. ``seen``: the deadline the person's page showed
    (``deadlines.seen_deadline``); a change since is not overwritten. ``contact``: the customer set it on their
    own page (``by`` is None): the timeline names them, their address gets a copy, and ``token`` (that form's
    one-time token) makes the same form sent twice change nothing more."""
    now = now or timezone.now()
    submission = f"contact:{contact.pk}:{token}" if contact is not None and token else None
    if _first_written(submission) is not None:
        return issue
    with transaction.atomic():
        _lock(issue)
        checks.check_open(issue)
        if deadline == issue.customer_deadline:
            return issue
        deadlines.check_deadline(issue, deadline, now=now)
        deadlines.check_seen(issue, seen)
        previous = issue.customer_deadline
        issue.customer_deadline = deadline
        issue.deadline_warn_at = (deadlines.warn_at(deadline, calendar=deadlines.team_calendar(issue), now=now)
                                  if deadline else None)
        issue.deadline_warned_at = None
        issue.updated_at = now
        issue.save(update_fields=["customer_deadline", "deadline_warn_at", "deadline_warned_at", "updated_at"])
        event = record(issue, EventKind.DEADLINE_SET, by=by, at=now, public=True, old=emails.iso(previous) or "",
                       new=emails.iso(deadline) or "", submission=submission,
                       data={"contact": contact.pk, "name": contact.name} if contact is not None else None)
        if contact is not None:
            emails.page_copy(issue, contact, cause=f"deadline:{event.pk}", now=now,
                             context={"action": "deadline", "deadline": emails.iso(deadline)})
    return issue
