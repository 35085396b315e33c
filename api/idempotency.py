"""``Idempotency-Key`` on every POST: the same key (per person) and the same request within 24 hours get the
first answer again, with ``Idempotent-Replayed: true``, and change nothing; the same key with another request
is a 409.

The key's row is inserted first, inside the transaction that then does the work and stores the answer. A
second request with the same key meanwhile waits: on PostgreSQL its INSERT waits on the unique index until
the first commits (then reads its answer) or rolls back (then does the work itself); SQLite takes the write
lock at BEGIN, so the second transaction does not start before the first ends. Either way the work runs once.

Answers are stored unless they say nothing about the request: a 5xx (the work rolled back; try again), and
401, 403 and 429 (about the token or the moment, answered before any work). Old keys are swept hourly by
beat (``api.tasks``); one found older than 24 hours is treated as new.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from api import problems
from api.auth import token_of
from api.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
# Visible ASCII, as HTTP header values travel safely; a UUID fits many times over.
VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
NOT_REMEMBERED = {401, 403, 429}


def fingerprint_of(request: HttpRequest) -> str:
    """The method, the path and the body; a JSON body as its data (key order and spacing do not count)."""
    body = request.body
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON (or absurdly deep): the bytes as they came
        pass
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), body])).hexdigest()


def remembered(status: int) -> bool:
    return status < 500 and status not in NOT_REMEMBERED


def claim(*, user, key: str, fingerprint: str, now: datetime) -> IdempotencyKey | None:
    """Insert the key's row (None: this request does the work), or the row of the request that did."""
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint, created_at=now)
        return None
    except IntegrityError:
        first = IdempotencyKey.objects.filter(user=user, key=key).first()
    if first is not None and first.created_at > now - KEPT_FOR:
        return first
    # Swept meanwhile, or older than a day and not yet swept: the key is new again.
    if first is not None:
        first.delete()
    return claim(user=user, key=key, fingerprint=fingerprint, now=now)


def replay(first: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(first.body), status=first.status, content_type=first.content_type)
    if first.location:
        response["Location"] = first.location
    response["Idempotent-Replayed"] = "true"
    return response


def remember(row: IdempotencyKey, response: HttpResponse) -> None:
    IdempotencyKey.objects.filter(pk=row.pk).update(
        status=response.status_code, content_type=response.get("Content-Type", ""), body=response.content,
        location=response.get("Location", ""))


def idempotent(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap an operation's run (``ninja.decorators.decorate_view``): the whole answer, auth included."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        key = request.headers.get(HEADER)
        token = token_of(request)
        if key is None or token is None or token.read_only:
            return run(request, *args, **kwargs)  # nothing to remember, or answered 401/403 there
        if not VALID_KEY.fullmatch(key):
            return problems.refused(request, {HEADER: [_("An idempotency key is 1 to 255 visible ASCII characters, "
                                                         "e.g. a UUID.")]})
        now, asked = timezone.now(), fingerprint_of(request)
        with transaction.atomic():
            first = claim(user=token.user, key=key, fingerprint=asked, now=now)
            if first is not None:
                return conflict(request, first, asked) or replay(first)
            response = run(request, *args, **kwargs)
            if remembered(response.status_code):
                remember(IdempotencyKey.objects.get(user=token.user, key=key), response)
            else:
                transaction.set_rollback(True)
        return response

    return wrapper


def conflict(request: HttpRequest, first: IdempotencyKey, asked: str) -> HttpResponse | None:
    if first.fingerprint != asked:
        return problems.problem(request, 409, _("This idempotency key was used for another request in the last 24 "
                                                "hours: use a new key for a new request."), kind="idempotency-conflict")
    if first.status is None:  # cannot be seen committed; said rather than replayed as nothing
        return problems.problem(request, 409, _("A request with this idempotency key is still running."),
                                kind="idempotency-conflict")
    return None


def sweep(*, now: datetime | None = None) -> int:
    """Forget keys older than 24 hours: one indexed DELETE."""
    now = now or timezone.now()
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=now - KEPT_FOR).delete()
    return deleted
