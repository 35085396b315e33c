"""What every customer page answers with, whichever view served it: not indexed, not cached, no Referer carrying
the token anywhere, the layout's 404 with "send me a fresh link" for a dead link, and the 429 page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.access import DeadLink
from portal.forms import FreshLinkForm
from portal.throttle import Throttled


class CustomerPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.app_name == "portal":
            response.headers["X-Robots-Tag"] = "noindex, nofollow"
            # The token is in the address: no Referer ever carries it, to another site or to ours ("strict-origin"
            # sends the bare origin). Not "no-referrer": Chromium then sends "Origin: null" with every form,
            # which Django's CSRF check rightly refuses.
            response.headers["Referrer-Policy"] = "strict-origin"
            response.headers["Cache-Control"] = "private, no-store"
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Throttled):
            response = render(request, "portal/throttled.html", status=429)
            response.headers["Retry-After"] = "60"
            return response
        if isinstance(exception, DeadLink):
            return render(request, "portal/dead_link.html", {"form": FreshLinkForm()}, status=404)
        return None
