"""The issue page's one composer: a message to the customer or an internal note, and what happens to the
status after sending, as one service call in one transaction.

What may follow a message to the customer (``moves``) depends on the issue's status, in the vocabulary of
``services.STATUS_MOVES``: keep the status, move it to in progress, wait for the customer's answer (only when
someone receives the question: ``checks.check_can_wait``), or resolve, the text then saying what was done (one
email: the resolved one, held a few seconds for an undo, ``issues.undo``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from issues import services, undo
from issues.models import Issue, IssueEvent, Status, Undo

KEEP, IN_PROGRESS, WAIT, RESOLVE = "keep", "in_progress", "wait", "resolve"
THEN = (KEEP, IN_PROGRESS, WAIT, RESOLVE)


@dataclass(frozen=True)
class Move:
    """One choice of "after sending": its value, how the choice reads, and what the send button then says."""

    value: str
    label: str
    button: str


@dataclass(frozen=True)
class Sent:
    issue: Issue
    then: str
    event: IssueEvent | None  # the update or note written; None for a resolution
    undo: Undo | None = None


def moves(issue: Issue, *, receivers: int) -> list[Move]:
    """What may follow a message to the customer on this issue, the default first. ``receivers``: how many
    contacts receive it."""
    status, allowed = issue.status, services.STATUS_MOVES[issue.status]
    send = (ngettext("Send to %(n)d contact", "Send to %(n)d contacts", receivers) % {"n": receivers}
            if receivers else _("Post it (nobody is emailed)"))
    keep = Move(KEEP, _("Keep the status (%(status)s)") % {"status": Status(status).label}, send)
    going_on = Move(IN_PROGRESS, _("Mark it in progress"), _("Send and mark in progress"))
    waiting = Move(WAIT, _("Wait for their answer"), _("Send and wait for their answer"))
    resolving = Move(RESOLVE, _("Resolve it: the text says what was done"), _("Send and resolve"))
    # A message on a waiting issue means we go on without their answer: "keep" is not on offer there.
    offered = [going_on] if status == Status.WAITING_ON_CUSTOMER else [keep]
    if Status.IN_PROGRESS in allowed and status not in (Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER):
        offered.append(going_on)
    if issue.is_open and receivers:
        offered.append(waiting)
    if Status.RESOLVED in allowed:
        offered.append(resolving)
    return offered


def send(*, issue: Issue, body: str, public: bool, then: str = KEEP, promised_update_at: datetime | None = None,
         by, token: str | None = None, now: datetime | None = None) -> Sent:
    """Write to the customer (public) or to colleagues (an internal note), then move the status as chosen.

    One transaction: a failure anywhere writes nothing (the form keeps the text). ``token`` is the form's
    one-time token: the same form sent twice writes and emails once. Resolving sends one email, the
    resolved one, with the text as what was done.
    """
    now = now or timezone.now()
    _check(public=public, then=then, promised_update_at=promised_update_at)
    if then == RESOLVE:
        return Sent(issue, then, None, undo.resolve(issue=issue, by=by, body=body, now=now, token=token))
    submission = services._submission(token, by)
    if (first := services._first_written(submission)) is not None:
        return Sent(first.issue, then, first)
    try:
        with transaction.atomic():
            event = services._write_update(issue=issue, body=body, public=public, by=by, now=now,
                                           promised_update_at=promised_update_at, submission=submission,
                                           wait=then == WAIT)
            if public and then == IN_PROGRESS and issue.status != Status.IN_PROGRESS:
                services.change_status(issue=issue, status=Status.IN_PROGRESS, by=by, now=now)
    except IntegrityError:
        # The same form, sent again while the first was being saved, lost the race for its token.
        if (first := services._first_written(submission)) is None:
            raise
        return Sent(first.issue, then, first)
    return Sent(issue, then, event)


def _check(*, public: bool, then: str, promised_update_at: datetime | None) -> None:
    if then not in THEN:
        raise ValidationError({"then": _("Choose what happens after sending.")})
    if not public and then in (WAIT, RESOLVE):
        raise ValidationError({"then": _("An internal note never reaches the customer: to resolve the issue or to "
                                         "wait for their answer, write to the customer.")})
    if then == RESOLVE and promised_update_at is not None:
        raise ValidationError({"promised_update_at": _("A resolved issue needs no promise of a next update: "
                                                       "leave the date empty.")})
