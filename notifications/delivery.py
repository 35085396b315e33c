"""Deliver the outbox: claim due rows under a short lease, send them over one SMTP connection, record
each result. Safe to run from any number of workers at once, and after a crash at any point.

One bad email never stops the others: each row's build and send ends in a fate (``transport.Fate``). A
permanent problem fails that row at once, with the reason; a temporary one retries it with backoff, at
most OUTBOX_MAX_ATTEMPTS times in all, counting attempts whose worker died; a broken connection hands the
rows not yet tried back, without charging them an attempt.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from issues.models import EventKind, IssueEvent
from notifications.addresses import Undeliverable
from notifications.compose import RENDERED_FIELDS, render_rows
from notifications.models import OutboundEmail
from notifications.transport import Fate, attempt, describe

log = logging.getLogger(__name__)
Status = OutboundEmail.Status
TO_SEND = [Status.PENDING, Status.SENDING]

# What staff may still retry or cancel from the admin (and a "sending" row whose lease ran out).
UNSENT = [Status.PENDING, Status.FAILED]


@dataclass
class Batch:
    token: uuid.UUID
    rows: list[OutboundEmail]
    taken: int = 0  # rows this claim took from the table, those settled at once (cancelled, failed) included
    interrupted: bool = False  # the relay could not be reached or went away: this run stops


def deliver_due(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Send every email that is due; returns how many were accepted by the SMTP server."""
    now = now or timezone.now()
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    sent = 0
    with commits_without_flush_wait():
        while batch := claim(now=now, limit=batch_size):
            sent += send(batch, now=now)
            if batch.taken < batch_size or batch.interrupted:
                break
    return sent


@contextmanager
def commits_without_flush_wait():
    """Each email's result is its own small commit. On PostgreSQL, don't wait for each commit's disk
    flush: a database crash could then lose the last fraction of a second of "sent" marks, and those
    emails would go out again with the same Message-ID, which receivers recognise. Nothing is lost."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def claim(*, now: datetime, limit: int) -> Batch | None:
    """Take up to `limit` due rows for this worker; None when nothing is due.

    A row is due when it is pending and its next attempt has come, or when it is "sending" but its
    lease ran out (the worker that held it died). The lease expiry is written into next_attempt_at,
    so both cases are one indexed range query. The conditional UPDATE is the claim: a row another
    worker took in between no longer matches and is not ours. The claim counts the attempt, so a worker
    that dies mid-send has used one: a row whose attempts are all used fails here instead of going again.
    """
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    due = OutboundEmail.objects.filter(status__in=TO_SEND, next_attempt_at__lte=now)
    with transaction.atomic():
        candidates = due.order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return None
        _no_attempts_left(due.filter(pk__in=ids, attempts__gte=settings.OUTBOX_MAX_ATTEMPTS))
        due.filter(pk__in=ids, attempts__lt=settings.OUTBOX_MAX_ATTEMPTS).update(
            status=Status.SENDING, claim_token=token, lease_expires_at=lease_until,
            next_attempt_at=lease_until, attempts=F("attempts") + 1,
        )
    rows = list(OutboundEmail.objects.filter(claim_token=token, status=Status.SENDING).order_by("pk"))
    return Batch(token, _sendable(rows, token), taken=len(ids))


def _no_attempts_left(rows: QuerySet[OutboundEmail]) -> None:
    given_up = rows.update(
        status=Status.FAILED, lease_expires_at=None, claim_token=None,
        last_error=Concat(Value(f"No attempts left (the maximum is {settings.OUTBOX_MAX_ATTEMPTS}); the last one "
                                "never reported a result. "), F("last_error"), output_field=TextField()),
    )
    if given_up:
        log.error("outbox: %d emails failed for good: no attempts left", given_up)


def _sendable(rows: list[OutboundEmail], token: uuid.UUID) -> list[OutboundEmail]:
    """Settle at once the claimed rows that can never be sent; return the others, rendered."""
    for row in rows:
        if row.lost_its_contact:
            _record(row, token, status=Status.CANCELLED,
                    last_error="Cancelled: the contact this email was for has been deleted.")
    rows = [row for row in rows if not row.lost_its_contact]
    broken = render_rows(rows)
    for row, error in broken:
        _give_up(row, token, Undeliverable(f"the email could not be rendered ({describe(error)})"))
    unrendered = {row.pk for row, _error in broken}
    return [row for row in rows if row.pk not in unrendered]


def send(batch: Batch, *, now: datetime) -> int:
    """Send a claimed batch over one connection. Each row is marked as soon as its fate is known."""
    if not batch.rows:
        return 0
    smtp = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
    try:
        smtp.open()
    except Exception as error:  # unreachable, refused, TLS or login: an attempt for every row, none got further
        for row in batch.rows:
            _retry_later(row, batch.token, error, now=now)
        batch.interrupted = True
        return 0
    sent: list[OutboundEmail] = []
    try:
        for index, row in enumerate(batch.rows):
            fate, error = attempt(smtp, row)
            if fate is Fate.SENT:
                if _mark_sent(row, batch.token, now=now):
                    sent.append(row)
            elif fate is Fate.UNDELIVERABLE:
                _give_up(row, batch.token, error)
            else:
                _retry_later(row, batch.token, error, now=now)
            if fate is Fate.CONNECTION:
                _hand_back(batch.rows[index + 1:], batch.token, now=now)
                batch.interrupted = True
                break
    finally:
        _close(smtp)
        _note_on_timelines(sent, now=now)
    return len(sent)


def _operator_may_touch(now: datetime) -> Q:
    """Rows staff may still retry or cancel: waiting, given up on, or held by a worker whose lease ran out
    (it died). A row under a live lease is being sent this moment: changing it could send it twice. The
    condition is part of the UPDATE, so a claim that lands in between is re-checked, not overwritten."""
    return Q(status__in=UNSENT) | Q(status=Status.SENDING, lease_expires_at__lte=now)


def retry_now(rows: QuerySet[OutboundEmail], *, now: datetime | None = None) -> int:
    """Staff asked to try these again at once: a fresh round of attempts."""
    now = now or timezone.now()
    return rows.filter(_operator_may_touch(now)).update(status=Status.PENDING, next_attempt_at=now, attempts=0,
                                                        lease_expires_at=None, claim_token=None)


def cancel(rows: QuerySet[OutboundEmail], *, now: datetime | None = None) -> int:
    """Staff decided these must not go out; a row being sent right now or already sent stays as it is."""
    now = now or timezone.now()
    return rows.filter(_operator_may_touch(now)).update(status=Status.CANCELLED, lease_expires_at=None,
                                                        claim_token=None)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes between attempts, never more than an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=1))


def _record(row: OutboundEmail, token: uuid.UUID, **result) -> int:
    """Write an attempt's result, with what was rendered. Only the worker holding the claim may:
    an expired lease may have passed the row on to another worker."""
    rendered = {name: getattr(row, name) for name in RENDERED_FIELDS}
    return OutboundEmail.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING).update(
        lease_expires_at=None, claim_token=None, **rendered, **result
    )


def _mark_sent(row: OutboundEmail, token: uuid.UUID, *, now: datetime) -> bool:
    return bool(_record(row, token, status=Status.SENT, sent_at=now, last_error=""))


def _note_on_timelines(rows: list[OutboundEmail], *, now: datetime) -> None:
    """One insert per batch: the outbox row is the record of delivery, the event is for the timeline."""
    IssueEvent.objects.bulk_create([
        IssueEvent(issue_id=row.issue_id, kind=EventKind.EMAIL_SENT, at=now, public=False, new_value=row.kind,
                   data={"recipient": row.recipient, "message_id": row.message_id})
        for row in rows if row.issue_id
    ])


def _retry_later(row: OutboundEmail, token: uuid.UUID, error: BaseException, *, now: datetime) -> None:
    """The claim counted this attempt: after the last one allowed, the row fails instead."""
    if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _give_up(row, token, error)
        return
    _record(row, token, status=Status.PENDING, next_attempt_at=now + backoff(row.attempts),
            last_error=describe(error))
    log.warning("outbox: %s to %s will be retried: %s", row.kind, row.recipient, describe(error))


def _hand_back(rows: list[OutboundEmail], token: uuid.UUID, *, now: datetime) -> None:
    """The connection broke before these were tried: they are due again at once (the next run), and the
    attempt their claim counted is given back. Their last error, if any, still says what happened before."""
    for row in rows:
        _record(row, token, status=Status.PENDING, next_attempt_at=now, attempts=F("attempts") - 1)
    if rows:
        log.warning("outbox: the connection broke; %d emails wait for the next run, not tried", len(rows))


def _give_up(row: OutboundEmail, token: uuid.UUID, error: BaseException) -> None:
    # A contact's address refused for good is a bounce like any other: the contact becomes undeliverable.
    refused = isinstance(error, smtplib.SMTPRecipientsRefused) and row.contact_id is not None
    _record(row, token, status=Status.FAILED, last_error=describe(error), bounce_pending=refused)
    log.error("outbox: %s to %s failed for good: %s", row.kind, row.recipient, describe(error))


def _close(smtp: BaseEmailBackend) -> None:
    try:
        smtp.close()
    except (OSError, smtplib.SMTPException):
        pass  # the connection is already gone; every result is recorded
