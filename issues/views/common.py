"""What every page shares: htmx detection, the scoped issue lookup, and the action decorator."""

from __future__ import annotations

from functools import wraps
from typing import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404

from issues.models import Issue


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (a history restore wants the full page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def only_get(request: HttpRequest) -> HttpResponse | None:
    """A page answers GET (and HEAD); called after the visibility lookup so a hidden page stays a 404."""
    return None if request.method in {"GET", "HEAD"} else HttpResponseNotAllowed(["GET"])


def issue_action(view: Callable[[HttpRequest, Issue], HttpResponse]) -> Callable[..., HttpResponse]:
    """Log in, find the issue among those the user may see (404 otherwise, before anything else is
    said about it), and accept only POST (CSRF is checked by the middleware)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, pk: int) -> HttpResponse:
        issue = get_object_or_404(Issue.objects.visible_to(request.user), pk=pk)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, issue)

    return wrapper
