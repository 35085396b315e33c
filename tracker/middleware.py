"""Cross-cutting HTTP concerns: the Content-Security-Policy and one log line per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

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


class RequestLogMiddleware:
    """method, path, status, duration, user and issue id: enough to follow one request in the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        request_log.info(
            "request", extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user": user.pk if user is not None and user.is_authenticated else None,
                "view": match.view_name if match else None,
                "issue": match.kwargs.get("pk") if match and "issue" in (match.view_name or "") else None,
            },
        )
        return response
