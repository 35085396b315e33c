"""Who may open the dashboard and its exports (a team's lead, superusers), what everyone else sees
(a 404, never a 403), and a page that runs the same number of queries at 20 issues as at 2,000."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from issues.models import Breach, Clock, EventKind, Feedback, Issue, IssueEvent, Profile
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
    bulk_issues,
)

pytestmark = pytest.mark.django_db


PAGES = ["dashboard", "dashboard_breaches_csv", "dashboard_owners_csv", "dashboard_ratings_csv"]
PERIOD = {"first": "2025-01-01", "last": "2025-03-01"}


def get(client, name: str, **params: str):
    return client.get(reverse(name), {**(PERIOD if name == "dashboard_breaches_csv" else {}), **params})


@pytest.mark.parametrize("name", PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, team, name):
    response = get(client, name)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES)
def test_a_member_who_is_not_the_lead_gets_a_404(client, team, manager, name):
    client.force_login(manager)

    assert get(client, name).status_code == 404
    assert get(client, name, team=str(team.pk)).status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_the_lead_of_another_team_gets_a_404_for_ours(client, team, name):
    other_lead = UserFactory(username="minho")
    TeamFactory(name="Other team", lead=other_lead)
    client.force_login(other_lead)

    assert get(client, name).status_code == 200
    assert get(client, name, team=str(team.pk)).status_code == 404
    assert get(client, name, team="nonsense").status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_the_lead_may_open_it_but_only_to_read(client, team, lead, name):
    client.force_login(lead)

    assert get(client, name).status_code == 200
    assert client.post(reverse(name)).status_code == 405


def test_a_lead_of_two_teams_chooses_between_them_and_sees_no_other(client, team, lead, outsider):
    second = TeamFactory(name="Public Sector", lead=lead)
    client.force_login(lead)

    first_page = client.get(reverse("dashboard"))
    chosen = client.get(reverse("dashboard"), {"team": second.pk})

    assert first_page.context["team"] == team and chosen.context["team"] == second
    assert [t.name for t in first_page.context["teams"]] == ["Enterprise Support", "Public Sector"]
    assert "Other team" not in first_page.content.decode()


def test_a_superuser_may_open_any_team(client, team, outsider, admin_user):
    client.force_login(admin_user)
    other = outsider.teams.get()

    response = client.get(reverse("dashboard"), {"team": other.pk})

    assert response.status_code == 200 and response.context["team"] == other
    assert {t.name for t in response.context["teams"]} == {"Enterprise Support", "Other team"}


def test_the_navigation_offers_the_dashboard_to_leads_only(client, team, lead, manager):
    client.force_login(lead)
    assert 'href="/dashboard/"' in client.get(reverse("inbox")).content.decode()

    client.force_login(manager)
    html = client.get(reverse("inbox")).content.decode()
    assert 'href="/dashboard/"' not in html
    assert 'href="/preferences/"' in html


# --- a fixed number of queries -------------------------------------------------------------------


def busy_team(team, manager, count: int) -> None:
    """`count` open issues over five customers; a tenth breached, each with an acknowledgement on record; a
    fifth rated by a contact of their customer (as if resolved before)."""
    now = timezone.now()
    for n in range(5):
        customer = CustomerFactory(team=team, account_manager=manager)
        bulk_issues(customer=customer, count=count // 10, opened_at=now - timedelta(days=3), severity="red")
        bulk_issues(customer=customer, count=count // 10, opened_at=now - timedelta(days=3), severity="blue",
                    acknowledged_at=now - timedelta(days=2, hours=n))
    issues = list(Issue.objects.filter(customer__team=team))
    Breach.objects.bulk_create([
        Breach(issue=issue, clock=Clock.ACKNOWLEDGE, severity=issue.severity, cycle_started_at=issue.ack_started_at,
               due_at=issue.ack_started_at + timedelta(hours=1), breached_at=now - timedelta(days=2))
        for issue in issues[::10]
    ])
    IssueEvent.objects.bulk_create([
        IssueEvent(issue=issue, kind=EventKind.CLOCK_STOPPED, new_value=Clock.ACKNOWLEDGE, at=issue.acknowledged_at)
        for issue in issues if issue.acknowledged_at
    ])
    for n in range(count // 100):
        team.members.add(UserFactory())
    contacts = {pk: ContactFactory(customer_id=pk) for pk in {issue.customer_id for issue in issues}}
    Feedback.objects.bulk_create([
        Feedback(issue=issue, contact=contacts[issue.customer_id], resolved_at=now - timedelta(days=1),
                 owner=issue.owner, solved=n % 2 == 0, score=n % 5 + 1, created_at=now - timedelta(hours=n % 48),
                 updated_at=now)
        for n, issue in enumerate(issues[::5])
    ])


@pytest.mark.parametrize("count", [20, 2000])
@pytest.mark.parametrize(("name", "queries"), [("dashboard", 20), ("dashboard_breaches_csv", 4),
                                               ("dashboard_owners_csv", 5), ("dashboard_ratings_csv", 4)])
def test_the_dashboard_and_its_exports_run_a_fixed_number_of_queries(
        client, team, lead, manager, count, name, queries, django_assert_max_num_queries):
    busy_team(team, manager, count)
    Profile.objects.create(user=lead)
    client.force_login(lead)
    today = timezone.localdate()
    if name == "dashboard":
        client.get(reverse(name))  # the first look counts the team's compliance days from its timeline, once

    with django_assert_max_num_queries(queries):
        response = client.get(reverse(name), {"first": str(today - timedelta(days=7)), "last": str(today)})
        content = b"".join(response.streaming_content) if response.streaming else response.content

    assert response.status_code == 200
    assert len(content) > 200
