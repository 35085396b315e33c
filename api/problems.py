"""Every error the API answers is ``application/problem+json`` (RFC 9457): type, title, status, detail, and for
invalid input ``errors: {field: [messages]}`` in the words of the pages (the services' and forms' own,
Django's for a value of the wrong type), in the language of the request (``Accept-Language``)."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from issues.errors import Reason

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
# The realm in WWW-Authenticate; the scheme is the one the schema declares.
REALM = 'Bearer realm="Inloop API"'

TITLES = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Authentication required"),
    403: gettext_lazy("Not allowed"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    409: gettext_lazy("Conflict"),
    422: gettext_lazy("Invalid input"),
    429: gettext_lazy("Too many requests"),
    500: gettext_lazy("Server error"),
    503: gettext_lazy("Service unavailable"),
}
KINDS = {400: "bad-request", 401: "authentication-required", 403: "forbidden", 404: "not-found",
         405: "method-not-allowed", 409: "conflict", 422: "invalid-input", 429: "too-many-requests",
         500: "server-error", 503: "unavailable"}


def problem_type(kind: str) -> str:
    return f"urn:inloop:problem:{kind}"


def problem(request: HttpRequest | None, status: int, detail: str, *, kind: str | None = None,
            errors: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None) -> HttpResponse:
    body: dict[str, Any] = {"type": problem_type(kind or KINDS.get(status, "error")),
                            "title": str(TITLES.get(status, _("Error"))), "status": status, "detail": str(detail)}
    if request is not None:
        body["instance"] = request.path
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                            content_type=f"{MEDIA_TYPE}; charset=utf-8")
    response["Content-Language"] = get_language() or "en"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def field_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """A service's or a form's refusal as {field: [messages]}; one that names no field under ``__all__``."""
    if hasattr(error, "error_dict"):
        return {field: [str(message) for message in DjangoValidationError(errors).messages]
                for field, errors in error.error_dict.items()}
    return {NON_FIELD_ERRORS: [str(message) for message in error.messages]}


def refused(request: HttpRequest, errors: dict[str, list[str]], *, kind: str = "invalid-input") -> HttpResponse:
    """422 with the field errors; the detail repeats the first message so a client that reads only it learns why."""
    first = next((messages[0] for messages in errors.values() if messages), _("Check the input."))
    return problem(request, 422, first, kind=kind, errors=errors)


# --- pydantic's refusals, said in Django's words (already translated into Korean by Django) --------------------

def pydantic_message(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("Enter a whole number.")
    if kind.startswith(("datetime", "timezone")):
        return _("Enter a valid date/time.")
    if kind in {"literal_error", "enum"}:
        return _("Select a valid choice. %(value)s is not one of the available choices.") % {
            "value": error.get("input", "")}
    if kind == "string_too_long":
        limit = ctx.get("max_length", 0)
        return ngettext("Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
                        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).", limit) % {
            "limit_value": limit, "show_value": len(str(error.get("input", "")))}
    if kind == "less_than_equal":
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {"limit_value": ctx.get("le")}
    if kind == "greater_than_equal":
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {"limit_value": ctx.get("ge")}
    if kind == "list_type":
        return _("Enter a list of values.")
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    if kind in {"model_attributes_type", "dict_type", "model_type"}:
        return _("Send a JSON object.")
    return _("Enter a valid value.")


def pydantic_field(location: tuple, source: str) -> str:
    """Where the error is, as a client names it: the query parameter or the body's field (``cc`` for
    ``("body", "payload", "cc", 0)``); the body itself is ``__all__``."""
    parts = [str(part) for part in location[1:] if isinstance(part, str)]
    if source == "body" and parts[:1] == ["payload"]:
        parts = parts[1:]
    return ".".join(parts) or NON_FIELD_ERRORS


def grouped(errors: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in errors:
        field = error.get("field") or pydantic_field(tuple(error.get("loc", ())), str(error.get("loc", ("",))[0]))
        message = error.get("message") or pydantic_message(error)
        if message not in found.setdefault(field, []):
            found[field].append(message)
    return found


# --- the exception handlers ---------------------------------------------------------------------------------

def install(api) -> None:
    """Replace django-ninja's handlers (``{"detail": …}`` as application/json) with problem documents."""
    api.add_exception_handler(NinjaValidationError, lambda request, exc: refused(request, grouped(exc.errors)))
    api.add_exception_handler(DjangoValidationError, lambda request, exc: refused(request, field_errors(exc)))
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(AuthenticationError, unauthenticated)
    api.add_exception_handler(AuthorizationError, lambda request, exc: problem(
        request, 403, str(exc) if str(exc) != "Forbidden" else _("This token may not do that."), kind="forbidden"))
    api.add_exception_handler(Throttled, lambda request, exc: problem(request, 429, _(
        "Too many requests with this token: wait a moment (see Retry-After) and try again.")))
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Exception, server_error)


def http_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """django-ninja's own: a body it cannot parse is its one 400."""
    status = getattr(exc, "status_code", 400)
    if status == 400:
        return problem(request, 400, _("The body cannot be read: send a JSON object."))
    return problem(request, status, str(exc))


def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    reason = exc.args[0] if exc.args and isinstance(exc.args[0], Reason) else None
    return problem(request, 404, reason or _("Nothing here: it does not exist, or it is not yours to see."))


def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    if not request.headers.get("Authorization"):
        return problem(request, 401, _("Send your API token: Authorization: Bearer <token>. Tokens are made on the "
                                       "preferences page."), headers={"WWW-Authenticate": REALM})
    return problem(request, 401, _("This API token is not valid: it is unknown or revoked, or its person can no "
                                   "longer sign in."),
                   headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})


def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is away: the next request reconnects (as tracker.middleware does for the pages). Inside a
        # transaction (an Idempotency-Key's) the transaction's end drops the connection instead.
        if not connection.in_atomic_block:
            connection.close()
        log.warning("api: database unavailable (%s)", str(exc)[:200])
        return problem(request, 503, _("The database is not answering: nothing was saved. Try again shortly."),
                       headers={"Retry-After": "15"})
    log.error("api: %s %s failed", request.method, request.path, exc_info=exc)
    return problem(request, 500, _("Something went wrong on our side; it has been logged."))
