"""Who may see what: another team's issue does not exist for you, whatever URL or method you try."""

from __future__ import annotations

import pytest
from django.urls import reverse

from issues.models import Issue, IssueEvent
from tests.factories import CustomerFactory, UserFactory, make_issue
from tests.issues.views_helpers import ago, htmx

pytestmark = pytest.mark.django_db

ISSUE_URLS = ["issue_detail", "issue_update", "issue_note", "issue_acknowledge", "issue_assign", "issue_severity",
              "issue_status", "issue_resolve", "issue_reopen"]
POSTS = {
    "issue_update": {"update-body": "Hello"},
    "issue_note": {"note-body": "Psst"},
    "issue_assign": {"assign-owner": "1"},
    "issue_severity": {"severity-severity": "red"},
    "issue_status": {"status-status": "in_progress"},
    "issue_resolve": {"resolve-body": "Done"},
}


@pytest.fixture
def their_issue(outsider):
    """An issue of team B (the outsider's team), seen by team A's manager."""
    return make_issue(customer=CustomerFactory(team=outsider.teams.get(), slug="theirs", code="THEIRS"),
                      at=ago(hours=1), by=outsider)


@pytest.fixture
def hana(client, manager, team):
    client.force_login(manager)
    return client


@pytest.mark.parametrize("name", ISSUE_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("as_htmx", [False, True])
def test_every_url_of_another_teams_issue_is_a_404(hana, their_issue, name, method, as_htmx):
    before = IssueEvent.objects.count()
    headers = htmx(hx_target="issue-page") if as_htmx else {}

    response = getattr(hana, method)(reverse(name, kwargs={"pk": their_issue.pk}), POSTS.get(name, {}), **headers)

    assert response.status_code == 404
    assert IssueEvent.objects.count() == before


def test_an_issue_that_does_not_exist_is_the_same_404(hana):
    assert hana.get(reverse("issue_detail", kwargs={"pk": 999999})).status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_teams_customer_page_is_a_404(hana, their_issue, method):
    assert getattr(hana, method)(reverse("customer_detail", kwargs={"slug": "theirs"})).status_code == 404


def test_bulk_actions_on_another_teams_issue_are_a_404(hana, their_issue):
    response = hana.post(reverse("issue_bulk"), {"issues": [their_issue.pk], "action": "acknowledge"},
                         **htmx(hx_target="inbox-results"))

    assert response.status_code == 404
    assert Issue.objects.get().acknowledged_at is None


def test_the_new_issue_form_does_not_offer_or_accept_another_teams_customer(hana, their_issue):
    page = hana.get(reverse("issue_new")).content.decode()
    response = hana.post(reverse("issue_new"), {"customer": their_issue.customer_id, "title": "Sneaky",
                                                "severity": "blue"})

    assert "THEIRS" not in page and their_issue.customer.name not in page
    assert response.status_code == 400
    assert Issue.objects.count() == 1


@pytest.mark.parametrize("name", ["inbox", "issue_new", "customer_list"])
def test_anonymous_visitors_are_sent_to_log_in_from_every_page(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ISSUE_URLS)
def test_anonymous_visitors_are_sent_to_log_in_from_every_issue_url(client, their_issue, name):
    response = client.post(reverse(name, kwargs={"pk": their_issue.pk}))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_person_in_no_team_sees_an_empty_inbox_and_no_issue(client, their_issue):
    client.force_login(UserFactory(username="loner"))

    assert client.get(reverse("inbox")).context["page"].paginator.count == 0
    assert client.get(their_issue.get_absolute_url()).status_code == 404
