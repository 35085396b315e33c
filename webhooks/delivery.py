"""Deliver webhooks: claim due rows under a lease, POST each one signed, record what the receiver said. Safe to
run from any number of workers at once, and after a crash at any point (the lease runs out, the row goes again
with the same webhook-id, and receivers drop the repeat).

In order per issue and endpoint: a row is not claimed while an earlier row for the same endpoint and issue is
unfinished (pending or being sent). A failure is retried on a schedule that reaches a receiver back from a
short outage within minutes and gives up after about a day. Requests go out with the standard library
(``urllib``): one short POST each, a timeout, no redirects followed.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from notifications.delivery import commits_without_flush_wait
from webhooks import chat, signing
from webhooks.models import Delivery, Endpoint, Format

log = logging.getLogger(__name__)
Status = Delivery.Status
UNFINISHED = [Status.PENDING, Status.SENDING]
# After the first attempt fails: 5 s, 30 s, 2 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h (about a day).
RETRY_AFTER = [timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=5),
               timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2),
               timedelta(hours=4), timedelta(hours=8), timedelta(hours=8)]
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
# A run stops claiming after this long (the task's soft time limit is longer); the next nudge or sweep goes on.
RUN_SECONDS = 180
EXCERPT_CHARS = 500
USER_AGENT = "Inloop-Webhooks/1"


@dataclass
class Batch:
    token: uuid.UUID
    rows: list[Delivery]
    started: float  # time.monotonic() at the claim: no row starts once the lease could end during it


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all (refused, timed out, unreachable)
    excerpt: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def receiver_in_trouble(self) -> bool:
        """Unreachable, down, overloaded or asking us to slow down: the endpoint's other rows in this batch wait
        with this one. (A 500 or a 4xx may be about this payload alone: the others are still tried.)"""
        return self.status is None or self.status in {429, 502, 503, 504}


def deliver_due(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Send every delivery that is due, in order per issue and endpoint; returns how many were accepted.
    ``now`` decides what is due; signatures always carry the real time of sending."""
    now = now or timezone.now()
    batch_size = batch_size or settings.WEBHOOK_BATCH_SIZE
    delivered, started = 0, time.monotonic()
    with commits_without_flush_wait():
        # Each round settles every row it claimed (delivered, failed, or due later than `now`), so the rows
        # that waited behind them are claimable in the next one; the loop ends when nothing is due.
        while time.monotonic() - started < RUN_SECONDS and (batch := claim(now=now, limit=batch_size)):
            delivered += send(batch, now=now)
    return delivered


def due_rows(now: datetime) -> QuerySet[Delivery]:
    """Due, and first in line: no earlier row for the same endpoint and issue is still unfinished."""
    earlier = Delivery.objects.filter(endpoint=OuterRef("endpoint"), issue=OuterRef("issue"), pk__lt=OuterRef("pk"),
                                      next_attempt_at__isnull=False)
    return Delivery.objects.filter(next_attempt_at__lte=now, status__in=UNFINISHED).exclude(Exists(earlier))


def claim(*, now: datetime, limit: int) -> Batch | None:
    """Take up to `limit` due rows for this worker; None when nothing is due.

    A row is due when it is pending and its next attempt has come, or when it is "sending" but its lease ran out
    (the worker that held it died): the lease's end is written into next_attempt_at, so both are one indexed
    range. The conditional UPDATE is the claim: a row another worker took in between no longer matches. The
    claim counts the attempt, so a row whose worker keeps dying fails once its attempts are used up.
    """
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    due = Delivery.objects.filter(next_attempt_at__lte=now, status__in=UNFINISHED)
    with transaction.atomic():
        candidates = due_rows(now).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return None
        given_up = due.filter(pk__in=ids, attempts__gte=MAX_ATTEMPTS).update(
            status=Status.FAILED, next_attempt_at=None, claim_token=None, claimed_until=None)
        if given_up:
            log.error("webhooks: %d deliveries failed for good: no attempts left", given_up)
        due.filter(pk__in=ids, attempts__lt=MAX_ATTEMPTS).update(
            status=Status.SENDING, claim_token=token, claimed_until=lease_until, next_attempt_at=lease_until,
            attempts=F("attempts") + 1)
    rows = list(Delivery.objects.filter(claim_token=token, status=Status.SENDING).select_related("endpoint")
                .order_by("pk"))
    if not rows and not given_up:
        return None
    return Batch(token, rows, time.monotonic())


def send(batch: Batch, *, now: datetime) -> int:
    """POST each claimed row; each is marked as soon as its answer is known."""
    delivered = 0
    waits: dict[int, datetime] = {}  # endpoints in trouble in this batch: when their rows go again
    last_start = settings.WEBHOOK_LEASE_SECONDS - settings.WEBHOOK_TIMEOUT - 1
    for row in batch.rows:
        if row.endpoint_id in waits or time.monotonic() - batch.started > last_start:
            _hand_back(row, batch.token, at=waits.get(row.endpoint_id, now))
            continue
        answer = post(row)
        if answer.ok:
            delivered += _record(row, batch.token, status=Status.DELIVERED, delivered_at=now, next_attempt_at=None,
                                 last_attempt_at=now, response_status=answer.status, response_excerpt=answer.excerpt)
            continue
        retry_at = _retry_later(row, batch.token, answer, now=now)
        if answer.receiver_in_trouble:
            waits[row.endpoint_id] = retry_at or now + RETRY_AFTER[0]
    return delivered


def post(row: Delivery) -> Answer:
    endpoint = row.endpoint
    body = request_body(row, endpoint)
    headers = signing.signed_headers(endpoint, message_id=webhook_id(row), body=body, sent_at=timezone.now())
    request = urllib.request.Request(endpoint.url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            return Answer(response.status, _excerpt(response.read(EXCERPT_CHARS * 4)))
    except urllib.error.HTTPError as error:  # the receiver answered, with a status that is not a success
        with error:
            return Answer(error.code, _excerpt(error.read(EXCERPT_CHARS * 4)))
    except (OSError, ValueError, http.client.HTTPException) as error:  # refused, timed out, unreachable, garbled
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        return Answer(None, f"{type(reason).__name__}: {reason}"[:EXCERPT_CHARS])


def webhook_id(row: Delivery) -> str:
    return f"msg_{row.message_id.hex}"


def request_body(row: Delivery, endpoint: Endpoint) -> str:
    """The frozen payload as it is, or the chat message made from it."""
    if endpoint.format == Format.STANDARD:
        return json.dumps(row.payload, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(chat.body(row.payload, kind=endpoint.format, language=endpoint.language), ensure_ascii=False)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a success: the endpoint's URL is what the admin configured."""

    def redirect_request(self, *args, **kwargs) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _excerpt(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _record(row: Delivery, token: uuid.UUID, **result) -> int:
    """Only the worker holding the claim may write the result: a lease that ran out may have passed it on."""
    return Delivery.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING).update(
        claim_token=None, claimed_until=None, **result)


def _retry_later(row: Delivery, token: uuid.UUID, answer: Answer, *, now: datetime) -> datetime | None:
    """The claim counted this attempt: after the last one allowed, the row fails. Returns the next attempt."""
    what = f"HTTP {answer.status}" if answer.status is not None else answer.excerpt
    result = {"last_attempt_at": now, "response_status": answer.status, "response_excerpt": answer.excerpt}
    if row.attempts >= MAX_ATTEMPTS:
        _record(row, token, status=Status.FAILED, next_attempt_at=None, **result)
        log.error("webhooks: %s to %s failed for good after %d attempts: %s", row.event_type, row.endpoint.url,
                  row.attempts, what)
        return None
    retry_at = now + RETRY_AFTER[row.attempts - 1]
    _record(row, token, status=Status.PENDING, next_attempt_at=retry_at, **result)
    log.warning("webhooks: %s to %s will be retried at %s: %s", row.event_type, row.endpoint.url,
                retry_at.isoformat(), what)
    return retry_at


def _hand_back(row: Delivery, token: uuid.UUID, *, at: datetime) -> None:
    """Not tried in this batch (its endpoint is in trouble, or the lease is running out): the attempt its claim
    counted is given back."""
    _record(row, token, status=Status.PENDING, next_attempt_at=at, attempts=F("attempts") - 1)


# --- what staff may do from the admin -----------------------------------------------------------------------


def _operator_may_touch(now: datetime) -> Q:
    """Rows waiting, given up on, or held by a worker whose lease ran out. A row under a live lease is being sent
    this moment; the condition is part of the UPDATE, so a claim that lands in between is not overwritten."""
    return Q(status__in=[Status.PENDING, Status.FAILED]) | Q(status=Status.SENDING, claimed_until__lte=now)


def retry_now(rows: QuerySet[Delivery], *, now: datetime | None = None) -> int:
    """Staff asked to try these again at once: a fresh round of attempts (still in order behind earlier rows)."""
    now = now or timezone.now()
    return rows.filter(_operator_may_touch(now)).update(status=Status.PENDING, next_attempt_at=now, attempts=0,
                                                        claim_token=None, claimed_until=None)


def cancel(rows: QuerySet[Delivery], *, now: datetime | None = None) -> int:
    """Staff decided these must not go; the rows waiting behind them go on."""
    now = now or timezone.now()
    return rows.filter(_operator_may_touch(now)).update(status=Status.CANCELLED, next_attempt_at=None,
                                                        claim_token=None, claimed_until=None)
