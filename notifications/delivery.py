"""Deliver the outbox: claim due rows under a short lease, send them over one SMTP connection, record
each result. Safe to run from any number of workers at once, and after a crash at any point."""

from __future__ import annotations

import logging
import smtplib
import socket
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from issues.models import EventKind, IssueEvent
from notifications.compose import RENDERED_FIELDS, render_rows
from notifications.models import OutboundEmail

log = logging.getLogger(__name__)
TO_SEND = [OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING]

# What staff may still retry or cancel from the admin.
UNSENT = [OutboundEmail.Status.PENDING, OutboundEmail.Status.FAILED]


@dataclass
class Batch:
    token: uuid.UUID
    rows: list[OutboundEmail]


def deliver_due(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Send every email that is due; returns how many were accepted by the SMTP server."""
    now = now or timezone.now()
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    sent = 0
    with commits_without_flush_wait():
        while batch := claim(now=now, limit=batch_size):
            sent += send(batch, now=now)
            if len(batch.rows) < batch_size:
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
    """Take up to `limit` due rows for this worker.

    A row is due when it is pending and its next attempt has come, or when it is "sending" but its
    lease ran out (the worker that held it died). The lease expiry is written into next_attempt_at,
    so both cases are one indexed range query. The conditional UPDATE is the claim: a row another
    worker took in between no longer matches and is not ours.
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
        due.filter(pk__in=ids).update(
            status=OutboundEmail.Status.SENDING, claim_token=token, lease_expires_at=lease_until,
            next_attempt_at=lease_until, attempts=F("attempts") + 1,
        )
    rows = list(OutboundEmail.objects.filter(claim_token=token, status=OutboundEmail.Status.SENDING).order_by("pk"))
    if not rows:
        return None
    for row, error in render_rows(rows):
        _give_up(row, token, error)
    return Batch(token, [row for row in rows if row.subject])


def send(batch: Batch, *, now: datetime) -> int:
    """Send a claimed batch over one connection. Each row is marked as soon as its fate is known."""
    smtp = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
    try:
        smtp.open()
    except (OSError, smtplib.SMTPException) as error:
        for row in batch.rows:
            _retry_later(row, batch.token, error, now=now)
        return 0
    sent: list[OutboundEmail] = []
    try:
        for index, row in enumerate(batch.rows):
            try:
                smtp.send_messages([build_message(row, smtp)])
            except (OSError, smtplib.SMTPException) as error:
                if is_permanent(error):
                    _give_up(row, batch.token, error)
                elif isinstance(error, smtplib.SMTPRecipientsRefused):
                    _retry_later(row, batch.token, error, now=now)  # this recipient only; the connection is fine
                else:
                    # The connection is gone or the server is unwell: hand the rest back for later.
                    for unsent in batch.rows[index:]:
                        _retry_later(unsent, batch.token, error, now=now)
                    break
            else:
                if _mark_sent(row, batch.token, now=now):
                    sent.append(row)
    finally:
        try:
            smtp.close()
        except (OSError, smtplib.SMTPException):
            pass
        _note_on_timelines(sent, now=now)
    return len(sent)


def retry_now(rows: QuerySet[OutboundEmail], *, now: datetime | None = None) -> int:
    """Staff asked to try these again at once; only rows still waiting or given up on move."""
    return rows.filter(status__in=UNSENT).update(status=OutboundEmail.Status.PENDING,
                                                 next_attempt_at=now or timezone.now(),
                                                 lease_expires_at=None, claim_token=None)


def cancel(rows: QuerySet[OutboundEmail]) -> int:
    """Staff decided these must not go out; a row being sent or already sent stays as it is."""
    return rows.filter(status__in=UNSENT).update(status=OutboundEmail.Status.CANCELLED, lease_expires_at=None,
                                                 claim_token=None)


def build_message(row: OutboundEmail, smtp) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject, body=row.body_text, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((row.recipient_name, row.recipient)) if row.recipient_name else row.recipient],
        reply_to=settings.EMAIL_REPLY_TO or None, headers={"Message-ID": row.message_id, **row.headers},
        connection=smtp,
    )
    message.attach_alternative(row.body_html, "text/html")
    return message


def is_permanent(error: BaseException) -> bool:
    """True when an SMTP error is permanent for this message (5xx about the recipient or content)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPSenderRefused):
        return False  # our own From address: a configuration problem, fixed once for every row
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes between attempts, never more than an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=1))


def _record(row: OutboundEmail, token: uuid.UUID, **result) -> int:
    """Write an attempt's result, with what was rendered. Only the worker holding the claim may:
    an expired lease may have passed the row on to another worker."""
    rendered = {name: getattr(row, name) for name in RENDERED_FIELDS}
    return OutboundEmail.objects.filter(pk=row.pk, claim_token=token, status=OutboundEmail.Status.SENDING).update(
        lease_expires_at=None, claim_token=None, **rendered, **result
    )


def _mark_sent(row: OutboundEmail, token: uuid.UUID, *, now: datetime) -> bool:
    return bool(_record(row, token, status=OutboundEmail.Status.SENT, sent_at=now, last_error=""))


def _note_on_timelines(rows: list[OutboundEmail], *, now: datetime) -> None:
    """One insert per batch: the outbox row is the record of delivery, the event is for the timeline."""
    IssueEvent.objects.bulk_create([
        IssueEvent(issue_id=row.issue_id, kind=EventKind.EMAIL_SENT, at=now, public=False, new_value=row.kind,
                   data={"recipient": row.recipient, "message_id": row.message_id})
        for row in rows if row.issue_id
    ])


def _retry_later(row: OutboundEmail, token: uuid.UUID, error: BaseException, *, now: datetime) -> None:
    if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _give_up(row, token, error)
        return
    _record(row, token, status=OutboundEmail.Status.PENDING, next_attempt_at=now + backoff(row.attempts),
            last_error=describe(error))
    log.warning("outbox: %s to %s will be retried: %s", row.kind, row.recipient, describe(error))


def _give_up(row: OutboundEmail, token: uuid.UUID, error: BaseException) -> None:
    _record(row, token, status=OutboundEmail.Status.FAILED, last_error=describe(error))
    log.error("outbox: %s to %s failed for good: %s", row.kind, row.recipient, describe(error))


def describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{address}: {code} {text.decode(errors='replace')}"
                         for address, (code, text) in error.recipients.items())
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}"
    if isinstance(error, socket.timeout):
        return "timed out talking to the SMTP server"
    return f"{type(error).__name__}: {error}"
