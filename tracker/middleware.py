"""Cross-cutting HTTP concerns: the Content-Security-Policy, Vary for htmx, one log line per request, the login
page for an htmx request whose session ended."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

request_log = logging.getLogger("inloop.request")


class ContentSecurityPolicyMiddleware:
    """Only our own static files may run or style a page: no inline script, no third-party host.
    A view that must relax it (the admin's email preview) sets its own header, which is kept."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


# What decides between a fragment and a full page (issues.views.common.is_htmx and the inbox's target).
HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-History-Restore-Request")


class HtmxVaryMiddleware:
    """The inbox and the issue page answer htmx with a fragment and a browser with the full page, at the
    same URL: a cache (the browser's own, for Back) must not hand one to the other. Every response says
    so; it is simpler than remembering which views look, and costs nothing on pages that do not."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_vary_headers(response, HTMX_HEADERS)
        return response


class RequestLogMiddleware:
    """method, path, status, duration, user and issue id: enough to follow one request in the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # Only a user the request already loaded: logging must not query (or fail with) the database.
        user = getattr(request, "_cached_user", None)
        request_log.info(
            "request", extra={
                "method": request.method, "path": loggable_path(request), "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user": user.pk if user is not None and user.is_authenticated else None,
                "view": match.view_name if match else None,
                "issue": match.kwargs.get("pk") if match and "issue" in (match.view_name or "") else None,
            },
        )
        return response


def loggable_path(request: HttpRequest) -> str:
    """The path with any secret it carries (a customer page link's or an unsubscribe link's token) left out:
    whoever reads the logs must not be able to open a customer's page or act in their name."""
    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match else None
    return request.path.replace(token, "[token]") if token else request.path


SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class HtmxLoginMiddleware:
    """A session that ended while a page stayed open: htmx would follow the redirect to the login page and swap
    that page into the issue page. Instead the whole window goes to the login page (``HX-Redirect``), which then
    returns to the page they were on; the typed text waits in the browser's draft."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.headers.get("HX-Request") or response.status_code != 302:
            return response
        if urlsplit(response["Location"]).path != resolve_url(settings.LOGIN_URL):
            return response
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path if current.path and url_has_allowed_host_and_scheme(
            request.headers.get("HX-Current-URL", ""), allowed_hosts={request.get_host()}) else "/"
        if current.query and back != "/":
            back = f"{back}?{current.query}"
        again = HttpResponse(status=200)
        again["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}"
        return again


class DatabaseUnavailableMiddleware:
    """While the database is away, say so with a 503 (and, for a form sent, that nothing was saved)
    instead of a server error; the connection is dropped so the next request reconnects."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        connection.close()
        request_log.warning("database unavailable", extra={"path": loggable_path(request), "error": str(exception)[:200]})
        # A GET may be the page a browser was sent to after a save that did commit: "nothing was
        # saved" would be untrue there, and would invite a duplicate.
        response = render(request, "503.html", {"sent_something": request.method not in SAFE_METHODS}, status=503)
        response.headers["Retry-After"] = "15"
        return response
