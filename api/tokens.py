"""Personal API tokens: made (the secret shown once), recognised, used, revoked.

A token is ``inl_`` and 43 random URL-safe characters (256 bits). The table keeps its SHA-256 and the first
12 characters (``prefix``), so a database reader cannot use a token and its person can still recognise it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from issues import text

SCHEME = "inl_"
PREFIX_LENGTH = 12
# last_used_at is written when it is older than this: a busy token costs one write a minute, not one a request.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Created:
    """A new token and its secret: the only moment the secret exists outside its owner's hands."""

    token: ApiToken
    secret: str
    again: bool = False  # the same form sent twice: the token made the first time, whose secret is gone


def hashed(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(*, user, name: str, read_only: bool = False, now: datetime | None = None,
                 token: str | None = None) -> Created:
    """Make a token for ``user``. ``token`` is the preferences form's one-time token: the same form sent twice
    makes one token (the second sending learns it was made, not its secret)."""
    name = text.one_line(name)
    if not name:
        raise ValidationError({"name": _("Name the token after where it is used, e.g. “Monitoring”.")})
    text.validate_name(name)
    submission = f"{user.pk}:{token}" if token else None
    if submission and (first := ApiToken.objects.filter(submission=submission).first()) is not None:
        return Created(first, "", again=True)
    secret = SCHEME + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            made = ApiToken.objects.create(user=user, name=name[:100], read_only=read_only,
                                           prefix=secret[:PREFIX_LENGTH], hashed_secret=hashed(secret),
                                           created_at=now or timezone.now(), submission=submission)
    except IntegrityError:
        # The same form, sent again while the first was being saved.
        first = ApiToken.objects.filter(submission=submission).first() if submission else None
        if first is None:
            raise
        return Created(first, "", again=True)
    return Created(made, secret)


def revoke_token(*, user, token_id: int, now: datetime | None = None) -> ApiToken | None:
    """Revoke one of the user's own tokens; None when they have no such token. Revoking twice is once."""
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        return None
    revoke(ApiToken.objects.filter(pk=token.pk), now=now)
    token.refresh_from_db(fields=["revoked_at"])
    return token


def revoke(tokens: QuerySet, *, now: datetime | None = None) -> int:
    """Revoke these tokens (a person's own, or an admin's choice); one revoked already keeps its time.
    Returns how many were revoked now."""
    return tokens.filter(revoked_at=None).update(revoked_at=now or timezone.now())


def recognise(secret: str) -> ApiToken | None:
    """The active token with this secret, its person loaded; None for an unknown or revoked one. The
    person may have been deactivated since: the caller checks."""
    if not secret.startswith(SCHEME) or len(secret) > 200:
        return None
    return ApiToken.objects.active().select_related("user").filter(
        hashed_secret=hashed(secret)).first()


def touch(token: ApiToken, *, now: datetime | None = None) -> None:
    """Note that the token was used; at most one write a minute, and the conditional UPDATE is the claim:
    of several requests at once, one writes."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at=None) | Q(last_used_at__lt=now - TOUCH_EVERY)).update(last_used_at=now)
    token.last_used_at = now


def tokens_of(user) -> QuerySet:
    """The user's tokens for the preferences page: active ones first, then the revoked, newest first."""
    return ApiToken.objects.filter(user=user).order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-pk")
