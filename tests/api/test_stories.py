"""A program does through the API what a person does on the pages, and Inloop writes the same: the same
timeline, the same emails queued. The token is made on the preferences page, as a person would."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.tokens import hashed
from issues.forms import ComposeForm
from issues.models import Issue, IssueEvent
from notifications.models import OutboundEmail
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db


def token_from_preferences(person, name: str = "Monitoring") -> str:
    """Sign in, make a token on the preferences page, and read it from the page (the only time it is shown)."""
    browser = Client()
    browser.force_login(person)
    page = browser.get(reverse("preferences")).content.decode()
    form_token = re.search(r'name="api_token-token" value="([0-9a-f]{32})"', page).group(1)
    answer = browser.post(reverse("preferences"), {"form": "api_token", "api_token-name": name,
                                                   "api_token-token": form_token})
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    return re.search(r'id="new-api-token" type="text" readonly value="([^"]+)"', answer.content.decode()).group(1)


def story(issue: Issue) -> list[tuple]:
    """What the issue's timeline and outbox say happened, without the ids and times that differ."""
    events = [(event.kind, event.public, event.body, event.new_value)
              for event in IssueEvent.objects.filter(issue=issue).order_by("at", "pk")]
    emails = sorted((email.kind, email.recipient, email.language)
                    for email in OutboundEmail.objects.filter(issue=issue))
    return events + [("email", *email) for email in emails]


def test_a_monitoring_script_opens_an_issue_promises_news_and_resolves_it_as_the_pages_would(
        manager, customer, contact):
    secret = token_from_preferences(manager)
    stored = ApiToken.objects.get(user=manager)
    assert secret.startswith("inl_") and stored.hashed_secret == hashed(secret) and secret not in stored.prefix + "…"
    script = Api(secret)
    promise = (timezone.localtime() + timedelta(hours=20)).replace(second=0, microsecond=0)

    opened = script.post("/api/issues", {"customer": "acme", "title": "Checkout returns 502", "severity": "red",
                                         "reporter": contact.pk, "description": "Seen by the uptime check."})
    assert opened.status_code == 201, opened.content
    number = opened.json()["id"]
    assert opened["Location"].endswith(f"/api/issues/{number}")
    updated = script.post(f"/api/issues/{number}/updates", {
        "body": "We found the failing node and are replacing it.", "promised_update_at": promise.isoformat()})
    assert updated.status_code == 201, updated.content
    assert updated.json()["promised_update_at"] == promise.isoformat()
    resolved = script.post(f"/api/issues/{number}/resolve", {"body": "The node is replaced; checkout works."})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"

    # The same story told on the pages, by the same person, about a twin issue.
    browser = Client()
    browser.force_login(manager)
    browser.post(reverse("issue_new"), {"customer": customer.pk, "reporter": contact.pk, "severity": "red",
                                        "title": "Checkout returns 502", "description": "Seen by the uptime check."})
    twin = Issue.objects.exclude(pk=number).get(title="Checkout returns 502")
    browser.post(reverse("issue_compose", args=[twin.pk]), {
        "compose-audience": ComposeForm.PUBLIC, "compose-then": "keep", "compose-promised_update_at":
        timezone.localtime(promise).strftime("%Y-%m-%dT%H:%M"),
        "compose-body": "We found the failing node and are replacing it."})
    browser.post(reverse("issue_resolve", args=[twin.pk]), {"resolve-body": "The node is replaced; checkout works."})

    by_api = story(Issue.objects.get(pk=number))
    assert len(by_api) >= 8 and ("email", "resolved", contact.email, "en") in by_api
    assert by_api == story(twin)


def test_the_issue_the_api_returns_is_the_issue_page_with_its_clocks_and_both_kinds_of_timeline_entry(
        hana, issue):
    hana.post(f"/api/issues/{issue.pk}/updates", {"body": "Checked the logs: the export hits a timeout.",
                                                  "audience": "internal"})

    answer = hana.get(f"/api/issues/{issue.pk}").json()

    assert answer["reference"] == f"ACME-{issue.pk}" and answer["url"].endswith(f"/issues/{issue.pk}/")
    assert answer["clocks"]["acknowledge"]["state"] in {"ok", "at_risk"}
    assert answer["clocks"]["acknowledge"]["due_at"].endswith("+09:00")
    note, opening = answer["timeline"][0], answer["timeline"][-1]
    assert note["kind"] == "internal_note" and note["public"] is False
    assert note["summary"] == "Hana Lee added an internal note"
    assert opening["kind"] == "created" and opening["public"] is True
    assert [person["email"] for person in answer["recipients"]] == ["grace@acme.example.com"]


def test_acknowledge_assign_regrade_move_and_reopen_go_through_the_pages_services(hana, issue, colleague):
    steps = [("acknowledge", None), ("assign", {"owner": colleague.pk}), ("severity", {"severity": "orange"}),
             ("status", {"status": "in_progress"}), ("resolve", {"body": "Fixed the index."}), ("reopen", None)]
    seen = []
    for action, body in steps:
        answer = hana.post(f"/api/issues/{issue.pk}/{action}", body)
        assert answer.status_code == 200, (action, answer.content)
        seen.append((answer.json()["status"], answer.json()["severity"], answer.json()["owner"]["username"]))

    assert seen == [("acknowledged", "blue", "hana"), ("acknowledged", "blue", "daniel"),
                    ("acknowledged", "orange", "daniel"), ("in_progress", "orange", "daniel"),
                    ("resolved", "orange", "daniel"), ("new", "orange", "daniel")]
