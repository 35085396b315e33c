"""Who is asking, and how often: ``Authorization: Bearer <token>`` and a fixed window of requests per token.

The API reads no cookie: a browser's session opens nothing here, so a page on another site cannot make a
signed-in person's browser write through the API (no CSRF to check), and the pages' CSRF rules stay theirs.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from api import tokens
from api.models import ApiToken
from portal import throttle

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
WINDOW_SECONDS = 60
_UNSET = object()


def token_of(request: HttpRequest) -> ApiToken | None:
    """The active token of an active person that the request carries, read once per request."""
    found = getattr(request, "_api_token", _UNSET)
    if found is _UNSET:
        scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
        found = tokens.recognise(secret.strip()) if scheme.lower() == "bearer" else None
        if found is not None and not found.user.is_active:
            found = None
        request._api_token = found
    return found


class TokenAuth(HttpBearer):
    """A personal API token. Missing, unknown or revoked, or its person deactivated: 401. A read-only token
    asking to change something: 403, whatever the object (so it confirms nothing)."""

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        token = token_of(request)
        if token is None:
            return None
        if token.read_only and request.method not in SAFE_METHODS:
            raise AuthorizationError(message=_("This token is read-only: make a read-write token on the "
                                               "preferences page to change things."))
        tokens.touch(token)
        return token

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:  # pragma: no cover - see __call__
        return token_of(request)


def window_left(now: float | None = None) -> int:
    """Seconds until the current window ends (windows are aligned to the clock's minutes)."""
    now = time.time() if now is None else now
    return max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS + 0.999))


class TokenRate(BaseThrottle):
    """Per token and minute: every request counts against API_REQUESTS_PER_MINUTE, a POST also against
    API_WRITES_PER_MINUTE (each one may email a customer). Counted in Django's cache with the customer page's
    helper; a cache that does not answer counts nothing (fail open)."""

    def allow_request(self, request: HttpRequest) -> bool:
        token = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return True
        window = int(time.time() // WINDOW_SECONDS)
        try:
            throttle.check(scope="api", key=f"{token.pk}:{window}", limit=settings.API_REQUESTS_PER_MINUTE,
                           window=WINDOW_SECONDS)
            if request.method not in SAFE_METHODS:
                throttle.check(scope="api-write", key=f"{token.pk}:{window}", limit=settings.API_WRITES_PER_MINUTE,
                               window=WINDOW_SECONDS)
        except throttle.Throttled:
            return False
        return True

    def wait(self) -> float:
        return window_left()
