"""Every error is a problem document, and invalid input is refused field by field in the pages' own words (the
services', the forms', Django's), in the language the request asks for. Each token has its rate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.api.conftest import Api
from tests.factories import make_api_token

pytestmark = pytest.mark.django_db

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}


def problem(answer, status: int) -> dict:
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/problem+json; charset=utf-8"
    body = answer.json()
    assert PROBLEM_FIELDS <= set(body) and body["status"] == status
    return body


def test_each_kind_of_error_is_a_problem_document(hana, issue):
    shapes = {
        401: Api(None).get("/api/issues"),
        404: hana.get("/api/issues/999999"),
        405: hana.client.delete(f"/api/issues/{issue.pk}", **hana.headers),
        422: hana.get("/api/issues", {"limit": 500}),
    }
    unknown = hana.get("/api/no-such-thing")

    for status, answer in shapes.items():
        problem(answer, status)
    assert problem(unknown, 404)["instance"] == "/api/no-such-thing"
    assert shapes[405]["Allow"] == "GET"
    assert problem(shapes[422], 422)["errors"] == {"limit": ["Ensure this value is less than or equal to 100."]}


def test_a_refused_update_carries_the_services_message_on_its_field(hana, issue):
    too_far = timezone.now() + timedelta(days=30)

    empty = problem(hana.post(f"/api/issues/{issue.pk}/updates", {"body": "\u200b "}), 422)
    promise = problem(hana.post(f"/api/issues/{issue.pk}/updates", {
        "body": "Working on it.", "promised_update_at": too_far.isoformat()}), 422)
    note_promise = problem(hana.post(f"/api/issues/{issue.pk}/updates", {
        "body": "Note.", "audience": "internal", "promised_update_at": too_far.isoformat()}), 422)

    assert empty["errors"] == {"body": ["Write the update the customer will read."]}
    assert empty["detail"] == "Write the update the customer will read."
    assert promise["errors"]["promised_update_at"][0].startswith("Promise the next update by")
    assert note_promise["errors"] == {"promised_update_at": ["Only a public update can promise the customer a date."]}


def test_wrong_types_and_missing_fields_are_said_in_djangos_words_and_in_korean_when_asked(hana, issue):
    english = problem(hana.post("/api/issues", {"customer": "acme", "severity": "purple", "cc": "x"}), 422)
    asked_in_korean = hana.post("/api/issues", {"customer": "acme"}, HTTP_ACCEPT_LANGUAGE="ko")
    korean = problem(asked_in_korean, 422)
    not_json = problem(hana.client.post("/api/issues", "{oops", content_type="application/json", **hana.headers), 400)

    assert english["errors"]["title"] == ["This field is required."]
    assert english["errors"]["severity"] == ["Select a valid choice. purple is not one of the available choices."]
    assert english["errors"]["cc"] == ["Enter a list of values."]
    assert korean["errors"]["title"] == ["필수 항목입니다."] and asked_in_korean["Content-Language"] == "ko"
    assert not_json["detail"] == "The body cannot be read: send a JSON object."


def test_a_move_the_workflow_forbids_is_refused_with_the_forms_words(hana, issue):
    hana.post(f"/api/issues/{issue.pk}/resolve", {"body": "Fixed."})

    moved = problem(hana.post(f"/api/issues/{issue.pk}/status", {"status": "in_progress"}), 422)
    resolved_again = problem(hana.post(f"/api/issues/{issue.pk}/resolve", {"body": "Again."}), 422)

    assert moved["errors"] == {"status": [
        "Select a valid choice. in_progress is not one of the available choices."]}
    assert resolved_again["detail"] == "This issue is already resolved."


def test_a_token_over_its_rate_gets_429_with_retry_after_and_other_tokens_do_not(manager, team, settings):
    settings.API_REQUESTS_PER_MINUTE = 5
    busy, other = Api(make_api_token(manager)), Api(make_api_token(manager, name="Other"))

    # Eleven requests fall in at most two of the clock's minutes: at most ten pass.
    answers = [busy.get("/api/customers") for _ in range(11)]

    statuses = [answer.status_code for answer in answers]
    assert statuses[:5] == [200] * 5 and 429 in statuses
    limited = next(answer for answer in answers if answer.status_code == 429)
    body = problem(limited, 429)
    assert 1 <= int(limited["Retry-After"]) <= 60 and body["detail"].startswith("Too many requests")
    assert other.get("/api/customers").status_code == 200


def test_writes_have_their_own_lower_rate_and_reads_go_on(hana, issue, settings):
    settings.API_WRITES_PER_MINUTE = 1

    statuses = [hana.post(f"/api/issues/{issue.pk}/updates", {"body": f"News {n}."}).status_code for n in range(3)]

    assert statuses[0] == 201 and 429 in statuses
    assert hana.get(f"/api/issues/{issue.pk}").status_code == 200


def test_a_cache_that_does_not_answer_counts_nothing_and_the_api_stays_open(hana, settings):
    settings.API_REQUESTS_PER_MINUTE = 1
    away = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}

    with override_settings(CACHES=away):
        answers = [hana.get("/api/customers").status_code for _ in range(3)]

    assert answers == [200, 200, 200]


def test_a_database_that_does_not_answer_is_a_503_problem_with_retry_after(hana, monkeypatch):
    from django.db import OperationalError

    from api.routes import issues

    def away(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(issues.selectors, "inbox", away)

    body = problem(hana.get("/api/issues"), 503)

    assert body["detail"].startswith("The database is not answering")
