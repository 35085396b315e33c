"""Schemathesis against /api/openapi.json: every operation, with data the schema allows and data it does not,
as a team lead who has data. No answer may be a server error, and every answer must be what the schema says
(status, problem documents for errors, the response bodies' shapes). Runs in-process (WSGI) on SQLite and on
PostgreSQL, a few seconds per operation."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from issues import services
from tests.factories import ContactFactory, make_api_token, make_issue, wait_on_customer

pytestmark = pytest.mark.django_db
EXAMPLES = 15  # per operation and kind of data: 13 operations, about 400 requests a pass
OPERATIONS = 13


@pytest.fixture
def in_process(settings):
    """The WSGI app in this thread, inside the test's transaction: Django must not close the connection at the
    end of each request (the test client does the same), and the limits must not cut the run short."""
    settings.API_REQUESTS_PER_MINUTE = settings.API_WRITES_PER_MINUTE = 1_000_000
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def lead_with_data(lead, manager, customer, contact):
    """Jisoo leads the team; Acme has issues new, acknowledged, waiting, resolved, breached."""
    now = timezone.now()
    ContactFactory(customer=customer, name="Ada Lovelace", email="ada@acme.example.com", language="ko")
    issues = [make_issue(customer=customer, at=now - timedelta(hours=hours), severity=severity, reporter=contact,
                         owner=manager, title=f"Issue {n}")
              for n, (hours, severity) in enumerate([(1, "red"), (30, "orange"), (5, "blue"), (200, "green"),
                                                     (3, "red")])]
    services.acknowledge(issue=issues[1], by=manager, now=now - timedelta(hours=29))
    wait_on_customer(issues[2], by=manager, now=now - timedelta(hours=4))
    services.resolve(issue=issues[3], by=manager, body="Fixed.", now=now - timedelta(hours=2))
    return make_api_token(lead, name="Schemathesis"), [issue.pk for issue in issues]


def cases(operation, ids: list[int]):
    """Cases with generated values everywhere, with a real issue or customer in the address, and invalid ones."""
    real = {"id": st.sampled_from(ids), "slug": st.just("acme")}
    fixed = {name: real[name] for name in ("id", "slug") if f"{{{name}}}" in operation.path}
    strategies = [operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE)]
    if fixed:
        strategies.append(st.fixed_dictionaries(fixed).flatmap(
            lambda values: operation.as_strategy(path_parameters=values)))
    return st.one_of(strategies)


def fuzz(operation, ids: list[int], secret: str, calls: Counter, succeeded: Counter) -> None:
    """One operation's examples, each sent and checked."""

    @given(case=cases(operation, ids))
    @settings(max_examples=EXAMPLES * 3, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        response = case.call_and_validate(headers={"Authorization": f"Bearer {secret}"},
                                          checks=[not_a_server_error, response_schema_conformance])
        calls[operation.label] += 1
        succeeded[operation.label] += response.status_code < 300

    run()


def test_every_operation_answers_as_its_schema_says_and_never_with_a_server_error(in_process, lead_with_data):
    secret, ids = lead_with_data
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", in_process)
    calls, succeeded = Counter(), Counter()
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:
        fuzz(operation, ids, secret, calls, succeeded)

    assert len(operations) == OPERATIONS and len(calls) == OPERATIONS
    assert min(calls.values()) >= EXAMPLES, calls
    # Not only refusals: most operations also ran on the lead's real issues and customer.
    assert len(+succeeded) >= 8, succeeded


def test_every_operation_has_a_summary_an_id_its_errors_and_the_token_scheme(client):
    schema = client.get("/api/openapi.json").json()
    operations = [(method, path, operation) for path, methods in schema["paths"].items()
                  for method, operation in methods.items()]

    assert len(operations) == OPERATIONS
    assert schema["components"]["securitySchemes"] == {"TokenAuth": {"type": "http", "scheme": "bearer"}}
    for method, path, operation in operations:
        assert operation["summary"] and operation["operationId"], path
        assert operation["security"] == [{"TokenAuth": []}], path
        errors = {status: answer for status, answer in operation["responses"].items() if int(status) >= 400}
        assert {"401", "404", "422", "429"} <= set(errors), path
        assert all(list(answer["content"]) == ["application/problem+json"] for answer in errors.values()), path
        keyed = any(parameter["name"] == "Idempotency-Key" for parameter in operation.get("parameters", []))
        assert keyed == (method == "post") and ("409" in errors) == (method == "post"), path
    assert len({operation["operationId"] for _method, _path, operation in operations}) == OPERATIONS


def test_the_docs_page_is_our_own_page_under_our_csp(client):
    page = client.get("/api/docs")

    assert page.status_code == 200 and "default-src 'self'" in page["Content-Security-Policy"]
    assert b"/static/ninja/swagger-ui-bundle.js" in page.content and b"cdn" not in page.content.lower()
