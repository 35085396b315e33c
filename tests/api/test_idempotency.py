"""Idempotency-Key: a retried POST (a timeout, a crashed script) changes nothing the second time and gets the
first answer; the same key for another request is a conflict; two at once run the work once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from api.idempotency import sweep
from api.models import IdempotencyKey
from issues.models import Issue, IssueEvent
from notifications.models import OutboundEmail
from tests.api.conftest import Api
from tests.factories import make_api_token, make_issue

pytestmark = pytest.mark.django_db


def written(issue: Issue | None = None) -> tuple[int, int, int]:
    events = IssueEvent.objects.filter(issue=issue) if issue else IssueEvent.objects.all()
    return Issue.objects.count(), events.count(), OutboundEmail.objects.count()


def test_a_retried_update_is_written_and_emailed_once_and_the_retry_gets_the_first_answer(hana, issue):
    body = {"body": "We found the cause and are deploying a fix."}
    first = hana.post(f"/api/issues/{issue.pk}/updates", body, HTTP_IDEMPOTENCY_KEY="retry-1")
    after_first = written(issue)

    again = hana.post(f"/api/issues/{issue.pk}/updates", body, HTTP_IDEMPOTENCY_KEY="retry-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert written(issue) == after_first
    assert OutboundEmail.objects.filter(issue=issue, kind="public_update").count() == 1


def test_a_retried_opening_opens_one_issue_and_replays_its_location(hana, customer):
    body = {"customer": "acme", "title": "Checkout returns 502", "severity": "red"}
    first = hana.post("/api/issues", body, HTTP_IDEMPOTENCY_KEY="open-1")
    # The same data, written another way, is the same request.
    again = hana.post("/api/issues", {"severity": "red", "title": "Checkout returns 502", "customer": "acme"},
                      HTTP_IDEMPOTENCY_KEY="open-1")

    assert Issue.objects.filter(title="Checkout returns 502").count() == 1
    assert again.status_code == 201 and again["Location"] == first["Location"]


def test_the_same_key_for_another_request_is_a_409_that_changes_nothing(hana, issue):
    hana.post(f"/api/issues/{issue.pk}/updates", {"body": "First."}, HTTP_IDEMPOTENCY_KEY="k")
    before = written(issue)

    other_body = hana.post(f"/api/issues/{issue.pk}/updates", {"body": "Second."}, HTTP_IDEMPOTENCY_KEY="k")
    other_path = hana.post(f"/api/issues/{issue.pk}/acknowledge", None, HTTP_IDEMPOTENCY_KEY="k")

    assert other_body.status_code == other_path.status_code == 409
    assert other_body.json()["type"] == "urn:inloop:problem:idempotency-conflict"
    assert written(issue) == before


def test_a_refusal_is_remembered_too_but_a_rate_limit_or_a_read_only_token_is_not(hana, issue, manager, settings):
    refused = hana.post(f"/api/issues/{issue.pk}/updates", {"body": "   "}, HTTP_IDEMPOTENCY_KEY="empty")
    assert refused.status_code == 422
    assert hana.post(f"/api/issues/{issue.pk}/updates", {"body": "   "},
                     HTTP_IDEMPOTENCY_KEY="empty")["Idempotent-Replayed"] == "true"

    reader = Api(make_api_token(manager, read_only=True))
    assert reader.post(f"/api/issues/{issue.pk}/acknowledge", None, HTTP_IDEMPOTENCY_KEY="ro").status_code == 403
    settings.API_WRITES_PER_MINUTE = 0
    assert hana.post(f"/api/issues/{issue.pk}/acknowledge", None, HTTP_IDEMPOTENCY_KEY="late").status_code == 429
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"empty"}


def test_keys_are_per_person_and_a_bad_key_is_refused(hana, jisoo, issue):
    assert hana.post(f"/api/issues/{issue.pk}/updates", {"body": "One."}, HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    assert jisoo.post(f"/api/issues/{issue.pk}/updates", {"body": "Two."}, HTTP_IDEMPOTENCY_KEY="same").status_code == 201

    bad = hana.post(f"/api/issues/{issue.pk}/updates", {"body": "Three."}, HTTP_IDEMPOTENCY_KEY="with space")
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["Idempotency-Key"]


def test_keys_older_than_a_day_are_forgotten(hana, issue):
    hana.post(f"/api/issues/{issue.pk}/updates", {"body": "Old news."}, HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    again = hana.post(f"/api/issues/{issue.pk}/updates", {"body": "Old news."}, HTTP_IDEMPOTENCY_KEY="old")
    hana.post(f"/api/issues/{issue.pk}/updates", {"body": "Other."}, HTTP_IDEMPOTENCY_KEY="other")
    IdempotencyKey.objects.filter(key="other").update(created_at=timezone.now() - timedelta(hours=25))

    assert "Idempotent-Replayed" not in again
    assert sweep() == 1 and list(IdempotencyKey.objects.values_list("key", flat=True)) == ["old"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_do_the_work_once_the_second_waiting_for_the_first(
        customer, contact, manager, team):
    issue = make_issue(customer=customer, at=timezone.now() - timedelta(hours=1), reporter=contact, owner=manager)
    secret = make_api_token(manager)
    answers, errors = {}, []

    def send(name: str) -> None:
        try:
            answers[name] = Api(secret).post(f"/api/issues/{issue.pk}/updates", {"body": "One update, once."},
                                             HTTP_IDEMPOTENCY_KEY="twice-at-once")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    def waiting() -> int:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # read afresh, not the transaction's first look
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock'")
            return cursor.fetchone()[0]

    def until(count: int) -> None:
        deadline = time.monotonic() + 10
        while waiting() < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting() >= count

    # Hold the issue's row: the first request inserts its key, then waits on the row; the second waits on the key.
    with transaction.atomic():
        Issue.objects.select_for_update().get(pk=issue.pk)
        first = threading.Thread(target=send, args=("first",))
        first.start()
        until(1)
        second = threading.Thread(target=send, args=("second",))
        second.start()
        until(2)
    for thread in (first, second):
        thread.join(timeout=30)

    assert errors == [] and {answer.status_code for answer in answers.values()} == {201}
    assert answers["first"].content == answers["second"].content
    assert answers["second"]["Idempotent-Replayed"] == "true"
    assert IssueEvent.objects.filter(issue=issue, kind="public_update").count() == 1
    assert OutboundEmail.objects.filter(issue=issue, kind="public_update").count() == 1


def test_a_server_error_is_not_remembered_and_what_it_had_written_is_undone(hana, issue, monkeypatch):
    from api.routes import actions

    real_send = actions.composer.send

    def send_then_fail(**kwargs):
        real_send(**kwargs)
        raise RuntimeError("the worker's disk is full")

    monkeypatch.setattr(actions.composer, "send", send_then_fail)
    before = written(issue)
    failed = hana.post(f"/api/issues/{issue.pk}/updates", {"body": "Deploying the fix."}, HTTP_IDEMPOTENCY_KEY="5xx")
    assert failed.status_code == 500 and failed.json()["type"] == "urn:inloop:problem:server-error"
    assert written(issue) == before and not IdempotencyKey.objects.exists()

    monkeypatch.setattr(actions.composer, "send", real_send)
    retried = hana.post(f"/api/issues/{issue.pk}/updates", {"body": "Deploying the fix."}, HTTP_IDEMPOTENCY_KEY="5xx")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert OutboundEmail.objects.filter(issue=issue, kind="public_update").count() == 1
