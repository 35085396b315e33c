"""The triage inbox: what an account manager sees first thing in the morning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from issues import services
from issues.models import Issue, IssueEvent
from tests.factories import CustomerFactory, make_issue, wait_on_customer
from tests.issues.views_helpers import ago, htmx, issues_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def rows(response) -> list[str]:
    return [issue.title for issue in response.context["page"].object_list]


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("inbox"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_inbox_lists_the_open_issues_of_my_teams_and_nothing_else(hana, customer, outsider, manager):
    mine = make_issue(customer=customer, at=ago(hours=1), title="Tracking page is blank")
    resolved = make_issue(customer=customer, at=ago(hours=2), title="Old news")
    services.resolve(issue=resolved, by=manager, body="Fixed.")
    others = CustomerFactory(team=outsider.teams.get())
    make_issue(customer=others, at=ago(hours=1), by=outsider, title="Someone else's fire")

    response = hana.get(reverse("inbox"))

    assert response.status_code == 200
    assert rows(response) == ["Tracking page is blank"]
    assert f"ACME-{mine.pk}" in response.content.decode()


def test_breached_comes_first_then_at_risk_then_nearest_due_and_severity_breaks_ties(hana, customer):
    same_moment = ago(minutes=10)
    make_issue(customer=customer, at=same_moment, severity="green", title="Calm green")
    make_issue(customer=customer, at=same_moment, severity="blue", title="Calm blue")
    make_issue(customer=customer, at=ago(minutes=50), severity="red", title="Red at risk")
    make_issue(customer=customer, at=ago(hours=5), severity="orange", title="Orange breached")
    make_issue(customer=customer, at=ago(hours=3), severity="red", title="Red breached")

    titles = rows(hana.get(reverse("inbox")))

    # Orange is due 4 h after 5 h ago (1 h overdue), red 1 h after 3 h ago (2 h overdue): most overdue first.
    assert titles[:3] == ["Red breached", "Red at risk", "Orange breached"]  # red within the hour comes first
    # Blue and green share the same business-time policy: severity breaks the tie.
    assert titles[3:] == ["Calm blue", "Calm green"]


def test_every_row_shows_severity_reference_customer_owner_status_and_a_readable_clock(hana, customer, manager):
    make_issue(customer=customer, at=ago(hours=3), severity="red", title="Checkout down", owner=manager)
    unowned = CustomerFactory(team=customer.team, account_manager=None, name="Nobody's Corp")
    make_issue(customer=unowned, at=ago(minutes=5), severity="green", title="Typo", by=manager)

    html = hana.get(reverse("inbox")).content.decode()

    assert "Red" in html and "▲" in html
    assert "Acme Logistics" in html and "Hana Lee" in html and "unassigned" in html
    assert "ack overdue 2 h" in html
    assert "ack due in" in html


def test_a_waiting_issue_shows_its_paused_clock_and_a_promise_shows_its_day(hana, customer, contact, manager):
    waiting = make_issue(customer=customer, at=ago(hours=2), title="Waiting")
    wait_on_customer(waiting, by=manager)
    promised = make_issue(customer=customer, at=ago(hours=2), title="Promised")
    services.post_update(issue=promised, body="Looking into it.", public=True, by=manager,
                         promised_update_at=ago(hours=-30))

    html = hana.get(reverse("inbox")).content.decode()

    assert "paused: waiting on customer" in html
    assert "promised " in html


@pytest.mark.parametrize(("query", "expected"), [
    ({"severity": "red"}, ["Red one"]),
    ({"status": "acknowledged"}, ["Acknowledged one"]),
    ({"owner": "me"}, ["Red one", "Acknowledged one"]),
    ({"owner": "unassigned"}, ["Nobody's"]),
    ({"customer": "acme"}, ["Red one", "Acknowledged one"]),
    ({"clock": "breached"}, ["Red one"]),
    ({"clock": "at_risk"}, ["Nobody's"]),
    ({"q": "glacier"}, ["Acknowledged one"]),
    ({"q": "other co"}, ["Nobody's"]),
    ({"severity": "purple", "owner": "me"}, ["Red one", "Acknowledged one"]),
])
def test_filters_narrow_the_inbox_and_live_in_the_url(hana, customer, manager, colleague, query, expected):
    make_issue(customer=customer, at=ago(hours=3), severity="red", title="Red one", owner=manager)
    acked = make_issue(customer=customer, at=ago(minutes=5), title="Acknowledged one", description="Glacier melt")
    services.acknowledge(issue=acked, by=manager)
    other = CustomerFactory(team=customer.team, account_manager=None, name="Other Co")
    make_issue(customer=other, at=ago(hours=3, minutes=30), severity="orange", title="Nobody's", by=colleague)

    response = hana.get(reverse("inbox"), query)

    assert response.status_code == 200
    assert rows(response) == expected


def test_an_htmx_filter_gets_only_the_rows_back(hana, customer):
    make_issue(customer=customer, at=ago(hours=1), severity="red", title="Red one")

    response = hana.get(reverse("inbox"), {"severity": "red"}, **htmx(hx_target="inbox-results"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Red one" in html
    assert "<html" not in html and 'id="filters"' not in html


def test_the_inbox_pages_25_rows_at_a_time_and_keeps_the_filters_in_page_links(hana, customer):
    issues_for(customer, 30, severity="green")

    first = hana.get(reverse("inbox"), {"severity": "green"})
    second = hana.get(reverse("inbox"), {"severity": "green", "page": 2})

    assert len(rows(first)) == 25 and len(rows(second)) == 5
    assert "severity=green&amp;page=2" in first.content.decode()


@pytest.mark.parametrize("count", [10, 200])
def test_the_inbox_runs_a_fixed_number_of_queries_whatever_the_row_count(
        hana, customer, manager, count, django_assert_max_num_queries):
    for issue in issues_for(customer, count)[::3]:
        services.acknowledge(issue=issue, by=manager)

    # The people of my teams are read once, for the filter and the bulk bar; the page as its ids, then its rows.
    with django_assert_max_num_queries(9):
        response = hana.get(reverse("inbox"), {"owner": "me"})

    assert response.status_code == 200


def test_bulk_assign_gives_the_selected_issues_a_new_owner(hana, customer, colleague):
    first, second, untouched = issues_for(customer, 3)

    response = hana.post(reverse("issue_bulk"), {
        "issues": [first.pk, second.pk], "action": "assign", "owner": colleague.pk, "filters": "severity=blue"})

    assert response.status_code == 302
    assert response.url == reverse("inbox") + "?severity=blue"
    owners = dict(Issue.objects.values_list("pk", "owner__username"))
    assert owners == {first.pk: "daniel", second.pk: "daniel", untouched.pk: None}


def test_bulk_severity_and_acknowledge_go_through_the_services(hana, customer):
    first, second = issues_for(customer, 2)

    hana.post(reverse("issue_bulk"), {"issues": [first.pk], "action": "severity", "severity": "red"})
    hana.post(reverse("issue_bulk"), {"issues": [first.pk, second.pk], "action": "acknowledge"})

    first.refresh_from_db()
    assert first.severity == "red" and first.acknowledged_at is not None
    assert IssueEvent.objects.filter(kind="acknowledged").count() == 2


def test_bulk_by_htmx_answers_with_the_refreshed_rows_and_says_what_was_refused(hana, customer, manager):
    done, fresh = issues_for(customer, 2)
    services.acknowledge(issue=done, by=manager)

    response = hana.post(reverse("issue_bulk"), {"issues": [done.pk, fresh.pk], "action": "acknowledge"},
                         **htmx(hx_target="inbox-results"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "1 issue changed." in html
    assert f"ACME-{done.pk}: This issue is already acknowledged." in html
    assert "<html" not in html


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"action": "acknowledge"}, "issues", "Select at least one issue."),
    ({"action": "assign"}, "owner", "Choose who should own the selected issues."),
    ({"action": "severity"}, "severity", "Choose the new severity."),
])
def test_bulk_without_what_it_needs_says_so_and_changes_nothing(hana, customer, data, field, message):
    issue = make_issue(customer=customer, at=ago(hours=1))
    if field != "issues":
        data = {**data, "issues": [issue.pk]}

    response = hana.post(reverse("issue_bulk"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    issue.refresh_from_db()
    assert issue.acknowledged_at is None and issue.severity == "blue"


def test_bulk_on_an_issue_of_another_team_is_a_404_and_changes_nothing(hana, customer, outsider):
    mine = make_issue(customer=customer, at=ago(hours=1))
    theirs = make_issue(customer=CustomerFactory(team=outsider.teams.get()), at=ago(hours=1), by=outsider)

    response = hana.post(reverse("issue_bulk"), {"issues": [mine.pk, theirs.pk], "action": "acknowledge"})

    assert response.status_code == 404
    assert not Issue.objects.filter(acknowledged_at__isnull=False).exists()


def test_bulk_only_accepts_post(hana):
    assert hana.get(reverse("issue_bulk")).status_code == 405


def test_a_superuser_sees_every_team(client, customer, outsider, admin_user):
    make_issue(customer=customer, at=ago(hours=1), title="Ours")
    make_issue(customer=CustomerFactory(team=outsider.teams.get()), at=ago(hours=1), by=outsider, title="Theirs")
    client.force_login(admin_user)

    assert sorted(rows(client.get(reverse("inbox")))) == ["Ours", "Theirs"]


def test_the_oldest_breach_sorts_first_even_among_reds(hana, customer):
    make_issue(customer=customer, at=ago(hours=2), severity="red", title="Newer")
    make_issue(customer=customer, at=ago(hours=2) - timedelta(minutes=30), severity="red", title="Older")

    assert rows(hana.get(reverse("inbox"))) == ["Older", "Newer"]
