"""A token opens exactly what its person may see and do: another team's issue or customer is a 404 for every
method, a read-only token changes nothing, a revoked token or a deactivated person's opens nothing, and a
browser's session opens nothing at all (so no other site can make a signed-in browser write through the API)."""

from __future__ import annotations

import pytest
from django.test import Client

from api.tokens import recognise
from issues.models import Issue, IssueEvent
from notifications.models import OutboundEmail
from tests.api.conftest import Api
from tests.factories import CustomerFactory, make_api_token, make_issue

pytestmark = pytest.mark.django_db

WRITES = [("acknowledge", None), ("assign", {"owner": 1}), ("severity", {"severity": "red"}),
          ("status", {"status": "in_progress"}), ("updates", {"body": "Hello"}), ("resolve", {"body": "Done"}),
          ("reopen", None)]


def written() -> tuple[int, int, int]:
    return Issue.objects.count(), IssueEvent.objects.count(), OutboundEmail.objects.count()


def test_another_teams_issue_and_customer_are_not_found_by_any_method_and_nothing_changes(olga, issue, customer):
    before = written()
    answers = [olga.get(f"/api/issues/{issue.pk}"), olga.get(f"/api/customers/{customer.slug}")]
    answers += [olga.post(f"/api/issues/{issue.pk}/{action}", body) for action, body in WRITES]

    assert len(answers) == 9 and {answer.status_code for answer in answers} == {404}
    assert all(answer["Content-Type"].startswith("application/problem+json") for answer in answers)
    assert not any(issue.title.encode() in answer.content for answer in answers)
    assert written() == before


def test_another_teams_customer_is_refused_like_an_unknown_one_when_opening_an_issue(olga, customer):
    theirs = olga.post("/api/issues", {"customer": customer.slug, "title": "Probe"})
    unknown = olga.post("/api/issues", {"customer": "no-such-customer", "title": "Probe"})

    assert theirs.status_code == unknown.status_code == 422
    assert theirs.json()["errors"] == unknown.json()["errors"] == {
        "customer": ["Select a valid choice. That choice is not one of the available choices."]}


def test_a_read_only_token_reads_and_every_write_is_refused_with_a_403(manager, team, issue):
    reader = Api(make_api_token(manager, read_only=True))
    before = written()

    assert reader.get(f"/api/issues/{issue.pk}").status_code == 200
    refused = [reader.post(f"/api/issues/{issue.pk}/{action}", body) for action, body in WRITES]
    refused.append(reader.post("/api/issues", {"customer": "acme", "title": "Nope"}))

    assert len(refused) == 8 and {answer.status_code for answer in refused} == {403}
    assert refused[0].json()["detail"].startswith("This token is read-only")
    assert written() == before


def test_no_token_a_wrong_one_and_a_revoked_one_are_401_with_a_challenge(manager, team, issue, client):
    secret = make_api_token(manager)
    client.force_login(manager)
    client.post("/preferences/", {"form": "revoke_api_token", "api_token": recognise(secret).pk})

    answers = {"none": Api(None).get("/api/issues"), "wrong": Api("inl_" + "x" * 43).get("/api/issues"),
               "revoked": Api(secret).get("/api/issues"), "not bearer": Api(None, HTTP_AUTHORIZATION="Basic eA==")
               .get("/api/issues")}

    for name, answer in answers.items():
        assert answer.status_code == 401, name
        assert answer["WWW-Authenticate"].startswith('Bearer realm="Inloop API"'), name
        assert answer.json()["type"] == "urn:inloop:problem:authentication-required", name
    assert 'error="invalid_token"' in answers["revoked"]["WWW-Authenticate"]
    assert "Authorization: Bearer" in answers["none"].json()["detail"]


def test_a_deactivated_persons_token_opens_nothing(manager, team, issue):
    secret = make_api_token(manager)
    manager.is_active = False
    manager.save()

    assert Api(secret).get(f"/api/issues/{issue.pk}").status_code == 401


def test_a_signed_in_browser_without_a_token_can_neither_read_nor_write(manager, team, issue):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    before = written()

    read = browser.get("/api/issues")
    write = browser.post(f"/api/issues/{issue.pk}/acknowledge", content_type="application/json")

    assert (read.status_code, write.status_code) == (401, 401)
    assert written() == before


def test_the_dashboard_is_for_the_leads_of_the_team_asked_for(hana, jisoo, team, outsider):
    other_team = outsider.teams.get()

    assert jisoo.get("/api/dashboard").status_code == 200
    assert jisoo.get("/api/dashboard", {"team": team.pk}).json()["team"]["name"] == "Enterprise Support"
    assert hana.get("/api/dashboard").status_code == 404
    assert jisoo.get("/api/dashboard", {"team": other_team.pk}).status_code == 404
    assert hana.get("/api/dashboard").json()["detail"] == (
        "Only team leads see the dashboard, and only for the teams they lead.")


def test_a_token_lists_only_its_persons_teams_issues_and_customers(hana, olga, issue, outsider):
    theirs = CustomerFactory(name="Other customer", code="OTHER", slug="other", team=outsider.teams.get())
    make_issue(customer=theirs, at=issue.created_at, title="Their issue")

    assert [row["id"] for row in hana.get("/api/issues").json()["items"]] == [issue.pk]
    assert [row["title"] for row in olga.get("/api/issues").json()["items"]] == ["Their issue"]
    assert [row["slug"] for row in hana.get("/api/customers").json()] == ["acme"]
    assert [row["slug"] for row in olga.get("/api/customers").json()] == ["other"]
