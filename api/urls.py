"""The API's addresses: django-ninja's, each answering a method it does not take with a problem document, and
anything else under /api/ a problem 404 (never the pages' HTML)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, include, path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from api import problems
from api.main import api
from issues import ids  # noqa: F401  registers <id:…>: only an id a row can have matches


def problem_for_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith(problems.MEDIA_TYPE):
            return response
        allowed = response.get("Allow", "")
        return problems.problem(request, 405, _("This address does not take %(method)s; it takes %(allowed)s.") % {
            "method": request.method, "allowed": allowed}, headers={"Allow": allowed})

    return wrapper


@csrf_exempt
def nothing_here(request: HttpRequest, rest: str = "") -> HttpResponse:
    return problems.problem(request, 404, _("No such address in the API: see /api/docs."))


def view_of(pattern: URLPattern) -> Callable[..., HttpResponse]:
    """django-ninja's root only names the prefix the schema's paths start with: it answers as any unknown address.
    The schema and the docs are read, never posted to."""
    if pattern.name == "api-root":
        return nothing_here
    if pattern.name in {"openapi-json", "openapi-view"}:
        return csrf_exempt(problem_for_405(require_safe(pattern.callback)))
    return problem_for_405(pattern.callback)


def wrapped(patterns: list) -> list:
    return [path(str(pattern.pattern), view_of(pattern), name=pattern.name) if isinstance(pattern, URLPattern)
            else pattern for pattern in patterns]


ninja_patterns, ninja_app, ninja_namespace = api.urls
urlpatterns = [
    path("", include((wrapped(ninja_patterns), ninja_app), namespace=ninja_namespace)),
    re_path(r"^(?P<rest>.*)$", nothing_here, name="api_not_found"),
]
