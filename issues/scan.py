"""The SLA monitor: warn owners before a clock runs out, record breaches and tell the owner and the
team lead, and keep customers informed with automatic status emails.

Every step is one indexed range query over the stored due columns, a claim, and set-based writes
(``issues.burst``), in batches: never a loop over all open issues, never a model object per row written. A
claim is a row lock taken with SKIP LOCKED (PostgreSQL) and, in the same transaction, an UPDATE that sets the
step's flag where the step's condition still holds and returns the rows it set, so two scans running at
once never handle the same issue twice (the breach step locks and reads first, and its UPDATE also writes the
automatic email due with the breach: one new version of each row); and every email and breach is named after
its clock cycle (a unique key), so even a repeated step could not send or record anything twice.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from issues import burst, ladder, promises, sla
from issues.clocks import ClockSetups
from issues.models import (
    UNRESOLVED,
    Breach,
    Clock,
    Customer,
    EventKind,
    Heartbeat,
    Issue,
    IssueEvent,
    Promise,
    Severity,
    Status,
)
from issues.models.issue import CLOCK_COLUMNS, COMPUTED_COLUMNS, ClockColumns
from issues.reporting import rollups
from issues.services import _resume
from issues.timeline import clock_events
from notifications import emails, escalations
from webhooks import emit as webhooks

log = logging.getLogger(__name__)
# Issues per claim and transaction. A batch's work is a fixed number of statements whatever its size (issues.burst),
# so a burst of thousands goes in a few transactions; each holds its rows' locks for well under a second.
BATCH_SIZE = 2000
SCAN_HEARTBEAT = "sla_scan"
# A breach notice may wait for the team's working day, but never longer than this: a weekend or a
# holiday must not hold the news that a clock ran out. (A working night longer than this is cut
# short too: the notice then lands early in the morning, which costs nobody anything.)
MAX_BREACH_NOTICE_HOLD = timedelta(hours=12)
# ScanReport.add: a burst's helper threads count into the same report.
_counting = threading.Lock()


@dataclass
class ScanReport:
    warnings: int = 0
    breaches: int = 0
    auto_emails: int = 0
    waiting_reminders: int = 0
    waits_ended: int = 0
    deadline_warnings: int = 0
    promises_broken: int = 0
    escalations: int = 0

    def add(self, name: str, count: int) -> None:
        """Count what a step did where a burst's connections each count theirs (``_drain``)."""
        with _counting:
            setattr(self, name, getattr(self, name) + count)

    def __str__(self) -> str:
        return (f"{self.warnings} warning(s), {self.breaches} breach(es), "
                f"{self.auto_emails} automatic status email(s), {self.waiting_reminders} waiting reminder(s), "
                f"{self.waits_ended} wait(s) ended, {self.deadline_warnings} deadline warning(s), "
                f"{self.promises_broken} promise(s) broken, {self.escalations} escalation(s)")


def scan_sla(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> ScanReport:
    """One pass over both clocks of every open issue that needs something now."""
    now = now or timezone.now()
    report = ScanReport()
    for clock in CLOCK_COLUMNS:
        report.warnings += _drain(partial(warn, clock, now=now, limit=batch_size), batch_size)
        report.breaches += _drain(partial(breach, clock, now=now, limit=batch_size, report=report), batch_size)
    report.escalations += _drain(partial(escalate, now=now, limit=batch_size), batch_size)
    report.auto_emails += _drain(partial(send_auto_emails, now=now, limit=batch_size), batch_size)
    # Reminders before ends: a wait that reaches both in one scan still reminds the customer.
    report.waiting_reminders += _drain(partial(remind_waiting, now=now, limit=batch_size), batch_size)
    report.waits_ended += _drain(partial(end_waits, now=now, limit=batch_size), batch_size)
    report.deadline_warnings += _drain(partial(warn_deadlines, now=now, limit=batch_size), batch_size)
    report.promises_broken += _drain(partial(break_promises, now=now, limit=batch_size), batch_size)
    Heartbeat.beat(SCAN_HEARTBEAT, timezone.now())
    log.info("sla scan", extra={"scan_at": now.isoformat(), **vars(report)})
    return report


def warn(clock: str, *, now: datetime, limit: int) -> tuple[int, int]:
    """At risk: remind the owner once per cycle. Returns (reminders, candidates seen)."""
    columns = CLOCK_COLUMNS[clock]
    with transaction.atomic():
        ids, seen = _claim_and_flag(columns.at_risk, columns.warned, now=now, limit=limit)
        if not ids:
            return 0, seen
        # A scan that comes late finds some already overdue: the breach notice says it all, no reminder.
        issues = _burst_load(Issue.objects.filter(pk__in=ids, **{f"{columns.due}__gt": now}))
        held = reminder_holds(issues, ClockSetups(issues), columns.due, now=now)
        told = emails.at_risk_reminders(issues, clock, now=now, not_before=held)
        _record(issues, EventKind.CLOCK_WARNED, clock, now=now, extra=_merged(_queued_for(held), _emails(told)))
        webhooks.clock_events("clock.at_risk", [(i.pk, clock, getattr(i, columns.due), getattr(i, columns.started))
                                                for i in issues], now=now)
    return len(issues), seen


def breach(clock: str, *, now: datetime, limit: int, report: ScanReport | None = None) -> tuple[int, int]:
    """Due time passed: one Breach per cycle, and the owner and the team lead are told. The update clock's
    automatic email, due with its breach, goes in the same step: each issue row takes one new version (the flag
    and the email's count together), not one per step. Returns (breaches, candidates seen); the automatic
    emails are counted in `report`."""
    columns = CLOCK_COLUMNS[clock]
    with transaction.atomic():
        candidates = _candidates(columns.due, columns.breached, now=now)
        ids = _claim(candidates, columns.due, limit)
        if not ids:
            return 0, 0
        issues = Issue.objects.filter(pk__in=ids)
        if clock == Clock.UPDATE:
            issues = issues.annotate(latest_update_id=_latest_public_update())
        issues = _burst_load(issues)
        setups = ClockSetups(issues)
        autos = AutoEmails(issues if clock == Clock.UPDATE else [], setups, now=now)
        # The claim: the flag (and the automatic email's columns) set where the step's condition still holds.
        claimed = set(burst.claim(candidates, (columns.breached, *AutoEmails.COLUMNS),
                                  [(issue.pk, now, *autos.columns(issue)) for issue in issues]))
        issues = [issue for issue in issues if issue.pk in claimed]
        if not issues:
            return 0, len(ids)
        burst.insert(Breach, ("issue", "clock", "severity", "cycle_started_at", "due_at", "breached_at", "escalate_at"), [
            (issue.pk, clock, issue.severity, getattr(issue, columns.started), getattr(issue, columns.due), now,
             _escalate_at(issue, setups, now))
            for issue in issues
        ], skip_conflicts=True)
        # the dashboard's compliance counts them, in this transaction
        rollups.breaches_recorded([issue.pk for issue in issues], clock, at=now)
        raised = _severity_raised_past_due(issues, columns)
        held = breach_notice_holds(issues, setups, now=now)
        told = emails.breach_notices(issues, clock, now=now, raised=raised, not_before=held)
        _record(issues, EventKind.CLOCK_BREACHED, clock, now=now,
                extra=_merged(raised, _queued_for(held), _emails(told)))
        webhooks.clock_events("clock.breached", [(i.pk, clock, getattr(i, columns.due), getattr(i, columns.started))
                                                 for i in issues], now=now)
        sent = autos.send(issues)
        if report is not None:
            report.add("auto_emails", sent)
    return len(issues), len(ids)


def escalate(*, now: datetime, limit: int) -> tuple[int, int]:
    """The ladder's third rung: a clock still breached a further window after the owner and the lead were told
    (``issues.ladder``). The team's escalation contact hears once per cycle; nobody's part changes, the owner
    stays the customer's contact."""
    with transaction.atomic():
        ids = _claim(Breach.objects.filter(cleared_at=None, escalated_at=None, escalate_at__lte=now), "escalate_at",
                     limit)
        # The conditional UPDATE is the claim: a breach cleared or escalated since is not taken.
        if not ids or not Breach.objects.filter(pk__in=ids, cleared_at=None, escalated_at=None).update(escalated_at=now):
            return 0, len(ids)
        breaches = list(Breach.objects.filter(pk__in=ids, escalated_at=now).select_related(
            "issue__owner", "issue__customer__team").order_by("pk"))
        told = escalations.escalation_notices(breaches, now=now)
        for row in breaches:
            row.escalated_to = ", ".join(told[row.pk])[:200]
        Breach.objects.bulk_update(breaches, ["escalated_to"])
        IssueEvent.objects.bulk_create([
            IssueEvent(issue_id=row.issue_id, kind=EventKind.ESCALATED, at=now, new_value=row.clock,
                       data={"clock": row.clock, "due_at": row.due_at.isoformat(), "breached_at": emails.iso(row.breached_at),
                             "recipients": told[row.pk]})
            for row in breaches
        ])
    return len(breaches), len(ids)


def send_auto_emails(*, now: datetime, limit: int) -> tuple[int, int]:
    """Update clock run out and still no human update: an automatic status email to the customer, then
    another every update window. It keeps the customer informed; it does not clear the breach. (The first of
    a cycle usually goes with the breach itself: ``breach``.)"""
    with transaction.atomic():
        ids = _claim(Issue.objects.filter(UNRESOLVED, auto_email_due_at__lte=now), "auto_email_due_at", limit)
        if not ids:
            return 0, 0
        issues = _burst_load(Issue.objects.filter(pk__in=ids).annotate(latest_update_id=_latest_public_update()))
        autos = AutoEmails(issues, ClockSetups(issues), now=now)
        # One statement for the batch, one new version of each row (the rows are locked: nobody moved them since
        # they were read).
        burst.update(Issue, AutoEmails.COLUMNS, [(issue.pk, *autos.columns(issue)) for issue in issues])
        return autos.send(issues), len(ids)


class AutoEmails:
    """The automatic status emails due among a batch's issues (``auto_email_due_at`` come): each one's number in
    its update cycle, when the next one is due, and who receives it. ``columns`` gives each issue's values of
    COLUMNS for the batch's one UPDATE ("last heard" moves only where a contact receives updates: an email
    nobody gets is not news); ``send`` queues the emails and notes each on its issue's timeline."""

    COLUMNS = ("auto_emails_sent", "last_auto_email_at", "auto_email_due_at", "customer_last_heard_at")

    def __init__(self, issues: list[Issue], setups: ClockSetups, *, now: datetime) -> None:
        self.now = now
        self.due = [issue for issue in issues if issue.auto_email_due_at is not None and issue.auto_email_due_at <= now]
        self.next_update_at: dict[int, datetime] = {}
        for issue in self.due:
            rules, calendar = setups(issue)
            issue.auto_emails_sent += 1
            issue.last_auto_email_at = now
            issue.auto_email_due_at = sla.auto_email_due(issue.stored_clocks().update, issue.auto_emails_sent,
                                                         now, rules, calendar)
            self.next_update_at[issue.pk] = issue.auto_email_due_at
        self.to = emails.update_recipients(self.due) if self.due else {}
        self.heard = {pk for pk, contacts in self.to.items() if contacts}

    def columns(self, issue: Issue) -> tuple:
        return (issue.auto_emails_sent, issue.last_auto_email_at, issue.auto_email_due_at,
                self.now if issue.pk in self.heard else issue.customer_last_heard_at)

    def send(self, issues: list[Issue]) -> int:
        """Queue the emails of `issues` (those claimed) that are due, and note each; returns how many issues."""
        claimed = {issue.pk for issue in issues}
        due = [issue for issue in self.due if issue.pk in claimed]
        if not due:
            return 0
        told = _emails(emails.auto_status(due, now=self.now, next_update_at=self.next_update_at, to=self.to,
                                          latest_update={issue.pk: issue.latest_update_id for issue in due}))
        burst.insert(IssueEvent, ("issue", "kind", "at", "public", "new_value", "data"), [
            (issue.pk, EventKind.AUTO_STATUS_EMAIL, self.now, True, Clock.UPDATE,
             {"number": issue.auto_emails_sent, "next_update_at": self.next_update_at[issue.pk].isoformat(),
              **told.get(issue.pk, {})})
            for issue in due
        ])
        return len(due)


def _latest_public_update() -> Subquery:
    """The issue's latest public update: what an automatic email repeats."""
    return Subquery(IssueEvent.objects.filter(issue=OuterRef("pk"), kind=EventKind.PUBLIC_UPDATE)
                    .order_by("-at", "-pk").values("pk")[:1])


def remind_waiting(*, now: datetime, limit: int) -> tuple[int, int]:
    """We asked the customer something and they have not answered for the rule's working days: one polite
    automatic reminder per wait. It is a message from us: the customer heard from us."""
    with transaction.atomic():
        ids = _claim(Issue.objects.filter(waiting_reminded_at=None, waiting_remind_at__lte=now),
                     "waiting_remind_at", limit)
        if not ids:
            return 0, 0
        Issue.objects.filter(pk__in=ids).update(waiting_reminded_at=now)
        asked = (IssueEvent.objects.filter(issue=OuterRef("pk"), kind=EventKind.PUBLIC_UPDATE)
                 .order_by("-at", "-pk").values("pk")[:1])
        issues = list(_load(ids).filter(status=Status.WAITING_ON_CUSTOMER).annotate(question_id=Subquery(asked)))
        heard = emails.waiting_reminders(issues, now=now, question={issue.pk: issue.question_id for issue in issues})
        IssueEvent.objects.bulk_create([
            IssueEvent(issue=issue, kind=EventKind.WAITING_REMINDER, at=now, public=True,
                       data={"ends_at": emails.iso(issue.waiting_ends_at), "received": issue.pk in heard})
            for issue in issues
        ])
        Issue.objects.filter(pk__in=heard).update(customer_last_heard_at=now)
    return len(issues), len(ids)


def end_waits(*, now: datetime, limit: int) -> tuple[int, int]:
    """The wait reached its limit (or a promised date) without an answer: the issue is back in progress,
    the update clock runs again (due within a week of the customer's last message from us) and whoever
    must act is told."""
    with transaction.atomic():
        ids = _claim(Issue.objects.filter(waiting_ends_at__lte=now), "waiting_ends_at", limit)
        if not ids:
            return 0, 0
        issues = list(_load(ids))
        setups = ClockSetups(issues)
        events = []
        for issue in issues:
            before = issue.stored_clocks()
            waited_since = issue.update_paused_at
            rules, calendar = setups(issue)
            if issue.status == Status.WAITING_ON_CUSTOMER:
                events.append(IssueEvent(issue=issue, kind=EventKind.STATUS_CHANGED, at=now, public=True,
                                         old_value=issue.status, new_value=Status.IN_PROGRESS))
                issue.status = Status.IN_PROGRESS
            _resume(issue, now=now, calendar=calendar)
            issue.updated_at = now
            issue.apply_clocks(sla.compute(issue.clock_facts(), rules, calendar))
            events.append(IssueEvent(issue=issue, kind=EventKind.WAITING_ENDED, at=now,
                                     data={"since": emails.iso(waited_since), "due_at": emails.iso(issue.update_due_at)}))
            events += clock_events(issue, before=before, by=None, at=now)
        Issue.objects.bulk_update(issues, ["status", "update_paused_at", "update_paused_for",
                                           "update_paused_calendar_time", "updated_at", *COMPUTED_COLUMNS])
        IssueEvent.objects.bulk_create(events)
        emails.waits_ended(issues, now=now)
    return len(issues), len(ids)


def warn_deadlines(*, now: datetime, limit: int) -> tuple[int, int]:
    """One working day before the customer's deadline (``issues.deadlines``), whoever must act hears once per
    deadline. An issue resolved before its warning has nothing to be warned about: its warning is dropped
    (reopening sets it again), so the partial index keeps only warnings still to come."""
    with transaction.atomic():
        ids = _claim(Issue.objects.filter(deadline_warned_at=None, deadline_warn_at__lte=now), "deadline_warn_at",
                     limit)
        if not ids:
            return 0, 0
        issues = list(_load(ids).filter(UNRESOLVED))
        warned = [issue.pk for issue in issues]
        Issue.objects.filter(pk__in=ids).exclude(pk__in=warned).update(deadline_warn_at=None)
        Issue.objects.filter(pk__in=warned).update(deadline_warned_at=now)
        held = reminder_holds(issues, ClockSetups(issues), "customer_deadline", now=now)
        IssueEvent.objects.bulk_create([
            IssueEvent(issue=issue, kind=EventKind.DEADLINE_WARNED, at=now, new_value=emails.iso(issue.customer_deadline),
                       data={"deadline": emails.iso(issue.customer_deadline), **_queued_for(held).get(issue.pk, {})})
            for issue in issues
        ])
        emails.deadline_warnings(issues, now=now, not_before=held)
    return len(issues), len(ids)


def break_promises(*, now: datetime, limit: int) -> tuple[int, int]:
    """A promised update date passed without a human update: the promise is broken (``issues.promises``)."""
    with transaction.atomic():
        ids = _claim(Promise.objects.filter(kept_at=None, broken_at=None, due_at__lte=now), "due_at", limit)
        if not ids:
            return 0, 0
        return promises.mark_broken(ids, now=now), len(ids)


def _drain(step: Callable[[], tuple[int, int]], batch_size: int) -> int:
    """Run `step` until a batch comes back less than full. A full claim is a burst: helpers join in at once
    (``Helpers``) and drain it with this connection."""
    helpers = Helpers(step, batch_size)
    token = _full_claim.set(helpers.call)
    try:
        done = _drain_alone(step, batch_size)
    finally:
        _full_claim.reset(token)
        done_by_helpers = helpers.join()
    return done + done_by_helpers


def _drain_alone(step: Callable[[], tuple[int, int]], batch_size: int) -> int:
    done = 0
    while True:
        handled, claimed = _batch(step)
        done += handled
        if claimed < batch_size:
            return done


# What a claim of a full batch calls, where a step is drained (``_drain``): the burst's helpers.
_full_claim: ContextVar[Callable[[], None]] = ContextVar("full_claim")


class Helpers:
    """SLA_SCAN_CONNECTIONS - 1 threads, each with its own connection, that drain a burst beside the scan's own
    connection once a claim comes back full: each claims its own batches (SKIP LOCKED: never an issue another
    holds, as separate scanners do), and while one's statements run in the database another's Python prepares its
    batch. Called only where they could see what the scan's connection sees: on PostgreSQL, outside a transaction
    of the caller's (inside one, what it wrote is not theirs to see yet). Their own claims call no one (a new
    thread starts with a context of its own)."""

    def __init__(self, step: Callable[[], tuple[int, int]], batch_size: int) -> None:
        self.step, self.batch_size = step, batch_size
        self.threads: list[threading.Thread] = []
        self.done: list[int] = []
        self.errors: list[Exception] = []
        self.outside = not connection.in_atomic_block  # before the step's own transaction begins

    def call(self) -> None:
        if self.threads or not self.outside or not connection.features.has_select_for_update_skip_locked:
            return
        self.threads = [threading.Thread(target=self._help, name=f"sla-scan-helper-{n}", daemon=True)
                        for n in range(settings.SLA_SCAN_CONNECTIONS - 1)]
        for thread in self.threads:
            thread.start()

    def _help(self) -> None:
        try:
            self.done.append(_drain_alone(self.step, self.batch_size))
        except Exception as error:  # noqa: BLE001 (raised by join, in the scan's own thread)
            self.errors.append(error)
        finally:
            connections.close_all()  # this thread's own

    def join(self) -> int:
        """Wait for the helpers; what they handled. A helper's error is raised here: its batch was rolled back and
        the next scan takes it again, as after any scan's error."""
        for thread in self.threads:
            thread.join()
        if self.errors:
            raise self.errors[0]
        return sum(self.done)


def _batch(step: Callable[[], tuple[int, int]]) -> tuple[int, int]:
    """One batch of a step. The batch's objects (thousands, all alive until it ends) are freed by their
    reference counts as it ends: the cycle collector, which would walk them again and again meanwhile, waits
    until then (in a burst it cost a fifth of the scan's time in this process)."""
    if not gc.isenabled():
        return step()
    gc.disable()
    try:
        return step()
    finally:
        gc.enable()


def _claim(candidates: QuerySet, due_column: str, limit: int) -> list[int]:
    """Lock up to `limit` candidate rows for this transaction, longest overdue first (the order of the
    partial index, so the database reads just those rows). Rows another scan holds are skipped, not
    waited for; once that scan commits they no longer match (their flag is set). A full claim is a burst: the
    step's helpers are called (``Helpers``)."""
    candidates = candidates.order_by(due_column)
    if connection.features.has_select_for_update_skip_locked:
        candidates = candidates.select_for_update(skip_locked=True, of=("self",))
    ids = list(candidates.values_list("pk", flat=True)[:limit])
    if len(ids) == limit and (call := _full_claim.get(None)) is not None:
        call()
    return ids


def _candidates(due_column: str, flag_column: str, *, now: datetime) -> QuerySet:
    """The open issues whose `due_column` has come and whose step has not run this cycle."""
    return Issue.objects.filter(UNRESOLVED, **{f"{flag_column}__isnull": True, f"{due_column}__lte": now})


def _claim_and_flag(due_column: str, flag_column: str, *, now: datetime, limit: int) -> tuple[list[int], int]:
    """Claim the candidates (``_candidates``) and set the step's flag so no later scan picks them again. Returns
    the issues claimed, and how many candidates were seen (a full batch: more may be waiting)."""
    candidates = _candidates(due_column, flag_column, now=now)
    ids = _claim(candidates, due_column, limit)
    return _flag(candidates, ids, flag_column, now=now), len(ids)


def _flag(candidates: QuerySet, ids: list[int], flag_column: str, *, now: datetime) -> list[int]:
    """The claim proper, as delivery's is: one UPDATE sets the flag on those of `ids` that still meet the
    step's condition (flag unset, due, open) and returns them (``issues.burst.claim``, as the breach step's). A
    row handled meanwhile (flagged by another scan, resolved, its clock moved) is left alone, so what comes back,
    and only that, is this scan's: the row lock makes that so on PostgreSQL already, the condition makes it so
    without relying on it."""
    return sorted(burst.claim(candidates, (flag_column,), [(pk, now) for pk in ids]))


def _load(ids: list[int]) -> QuerySet:
    """The claimed issues. Their customers, teams and owners are a few dozen people and companies: each is
    loaded once per batch and shared, not joined to every row (which built half a dozen model objects per
    issue)."""
    issues = Issue.objects.filter(pk__in=ids).defer("description")
    return issues.prefetch_related("customer__team", "owner").order_by("pk")


def _burst_load(issues: QuerySet) -> list[Issue]:
    """The claimed issues of the steps a burst runs through (reminders, breaches, automatic emails): only the
    columns they read (BURST_COLUMNS; a column left out would cost a query per issue:
    ``tests/issues/test_burst_scan.py`` counts them), built straight from each row, their customers, teams and
    owners loaded once per batch (``issues.burst.load``)."""
    return burst.load(issues.order_by("pk"), BURST_COLUMNS, related={
        "customer": Customer.objects.select_related("team"), "owner": get_user_model().objects.all()})


# What the reminder, breach and automatic email steps read of each issue, their emails included: who it belongs
# to, its clocks as stored (``Issue.stored_clocks``) and its automatic emails so far.
BURST_COLUMNS = ("customer", "owner", "reporter", "severity", "status", "ack_started_at", "ack_due_at",
                 "ack_at_risk_at", "update_started_at", "update_due_at", "update_at_risk_at", "update_paused_at",
                 "auto_emails_sent", "last_auto_email_at", "auto_email_due_at", "customer_last_heard_at",
                 "waiting_remind_at", "waiting_ends_at")


def _record(issues: list[Issue], kind: str, clock: str, *, now: datetime, extra: dict | None = None) -> None:
    due = CLOCK_COLUMNS[clock].due
    burst.insert(IssueEvent, ("issue", "kind", "at", "new_value", "data"), [
        (issue.pk, kind, now, clock,
         {"clock": clock, "due_at": getattr(issue, due).isoformat(), **(extra or {}).get(issue.pk, {})})
        for issue in issues
    ])


def _severity_raised_past_due(issues: list[Issue], columns: ClockColumns) -> dict[int, dict]:
    """Issues whose severity was raised after their due time had already passed: the notice says why
    it breached at once (the clock counts from its start, so a raise can make it overdue)."""
    changes = IssueEvent.objects.filter(issue_id__in=[issue.pk for issue in issues], kind=EventKind.SEVERITY_CHANGED
                                        ).order_by("at", "pk")
    latest = {change.issue_id: change for change in changes}
    raised = {}
    for issue in issues:
        change = latest.get(issue.pk)
        due = getattr(issue, columns.due)
        if change is not None and change.at >= due and change.at >= getattr(issue, columns.started):
            raised[issue.pk] = {"raised_from": change.old_value, "raised_to": change.new_value,
                                "raised_at": change.at.isoformat()}
    return raised


def reminder_holds(issues: list[Issue], setups: ClockSetups, due_column: str, *,
                   now: datetime) -> dict[int, datetime]:
    """When an at-risk reminder waits for the team's working day: only if the day begins before the clock
    is due. A reminder that would arrive after the due time reminds nobody of anything (a round-the-clock
    clock due on Sunday night is not helped by an email on Monday morning), so it goes at once."""
    holds = {}
    for issue in issues:
        opens = _next_opening(issue, setups, now)
        if opens is not None and opens < getattr(issue, due_column):
            holds[issue.pk] = opens
    return holds


def breach_notice_holds(issues: list[Issue], setups: ClockSetups, *, now: datetime) -> dict[int, datetime]:
    """When a breach notice waits: until the team's working day begins, at most MAX_BREACH_NOTICE_HOLD.
    Red is a company-level fire: its notices go out at once, working hours or not."""
    holds = {}
    for issue in issues:
        opens = _next_opening(issue, setups, now) if issue.severity != Severity.RED else None
        if opens is not None:
            holds[issue.pk] = min(opens, now + MAX_BREACH_NOTICE_HOLD)
    return holds


def _escalate_at(issue: Issue, setups: ClockSetups, breached_at: datetime) -> datetime:
    """The third rung's time for a breach recorded now: the policy's window, else the default by severity."""
    customer = issue.customer
    rules_calendar = setups(issue)[1]
    return ladder.escalate_at(breached_at, severity=issue.severity, escalate_after=setups.policy(issue).escalate_after,
                              policy_calendar=rules_calendar,
                              business_calendar=setups.calendars.get(customer.calendar_id or customer.team.calendar_id))


def _next_opening(issue: Issue, setups: ClockSetups, now: datetime) -> datetime | None:
    """The start of the team's next working hours, or None while they work (or have no working hours)."""
    calendar = setups.team_calendar(issue)
    opens = calendar.opens_at(now) if calendar is not None else now
    return opens if opens > now else None


def _queued_for(holds: dict[int, datetime]) -> dict[int, dict]:
    """What the timeline keeps of a held email: when it goes, so the line can say so."""
    return {pk: {"queued_for": emails.iso(at)} for pk, at in holds.items()}


def _emails(told: dict[int, dict[str, list[str]]]) -> dict[int, dict]:
    """Who a step's emails went to, kept on the step's own line of the timeline (``issues.story`` shows them
    under it): {kind: [addresses]}."""
    return {pk: {"emails": kinds} for pk, kinds in told.items()}


def _merged(*extras: dict[int, dict]) -> dict[int, dict]:
    merged: dict[int, dict] = defaultdict(dict)
    for extra in extras:
        for pk, data in extra.items():
            merged[pk].update(data)
    return merged
