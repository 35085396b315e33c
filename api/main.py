"""The API: django-ninja's typed operations beside Django's views, one per service or selector of the pages.

This module puts the pieces together: the token auth and rate limit on every operation, problem documents for
every error, the OpenAPI schema finished (error bodies as application/problem+json, the Idempotency-Key header
on every POST) and the docs page served from our own static files under our CSP.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError
from ninja.errors import ValidationErrorContext
from ninja.openapi.docs import DocsBase

from api import problems
from api.auth import TokenAuth, TokenRate
from api.idempotency import HEADER
from api.renderer import Renderer
from api.routes import actions, customers, dashboard, issues  # noqa: F401 - actions registers on import

DESCRIPTION = """The REST API of Inloop: the same services and the same team scoping as the pages.

Authenticate with a personal API token from the preferences page: `Authorization: Bearer <token>`. A token sees
exactly what its person sees; another team's issue or customer is a 404. Errors are `application/problem+json`.
Every POST accepts an `Idempotency-Key`: the same key and request within 24 hours get the first answer again.
"""


class Docs(DocsBase):
    """Swagger UI from django-ninja's bundled files (our static files: no CDN), with no inline script."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        return render(request, "api/docs.html", {"openapi_url": reverse("api:openapi-json"), "title": api.title})


class InloopApi(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts: list[ValidationErrorContext]) -> NinjaValidationError:
        """pydantic's refusals with the input still at hand: said in Django's (translated) words."""
        errors = []
        for context in error_contexts:
            model = context.model
            source = model.__ninja_param_source__
            for error in context.pydantic_validation_error.errors(include_url=False):
                location = (source, *model.__ninja_flatten_map_reverse__.get(error["loc"], error["loc"]))
                errors.append({"loc": location, "field": problems.pydantic_field(location, source),
                               "message": problems.pydantic_message(error)})
        return NinjaValidationError(errors)

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> dict:
        return finish_schema(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


IDEMPOTENCY_PARAMETER = {
    "name": HEADER, "in": "header", "required": False,
    "description": "Any string of 1 to 255 visible ASCII characters (a UUID). The same key and request within 24 "
                   "hours get the first answer again (header Idempotent-Replayed: true) and change nothing; the "
                   "same key with another request is a 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}


def finish_schema(schema: dict) -> dict:
    """Error answers are problem documents; every POST takes an Idempotency-Key and may answer 409."""
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            if method == "post":
                operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if int(status) >= 400 and "application/json" in content:
                    answer["content"] = {problems.MEDIA_TYPE: content["application/json"]}
    return schema


api = InloopApi(
    title="Inloop API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=TokenAuth(),
    throttle=[TokenRate()],
    renderer=Renderer(),
    docs=Docs(),
)
problems.install(api)
for module in (issues, customers, dashboard):  # `actions` adds its operations to the issues router
    api.add_router("", module.router)
