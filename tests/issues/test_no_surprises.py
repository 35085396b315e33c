"""No surprise actions: the bulk bar does exactly what was chosen, the selects say what is, and a
resolution says what was done."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from issues import services
from issues.models import Issue, IssueEvent
from notifications.models import OutboundEmail
from tests.factories import make_issue
from tests.issues.views_helpers import ago, htmx, issues_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def ticked(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="issues" value="(\d+)" id="select-\d+" checked', html)}


def test_the_bulk_bar_starts_with_no_action_chosen(hana, customer):
    issues_for(customer, 1)

    html = hana.get(reverse("inbox")).content.decode()

    action = re.search(r'<select[^>]*id="bulk-action".*?</select>', html, re.DOTALL).group(0)
    assert "required" in action
    assert re.search(r'<option value="">Choose an action</option>', action)
    assert " selected" not in action


def test_choosing_an_owner_without_choosing_assign_changes_nothing_and_says_what_is_missing(
        hana, customer, colleague):
    first, second = issues_for(customer, 2)

    response = hana.post(reverse("issue_bulk"), {"issues": [first.pk, second.pk], "owner": colleague.pk},
                         **htmx(hx_target="inbox-results"))

    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose what to do with the selected issues" in html
    assert ticked(html) == {first.pk, second.pk}
    assert not Issue.objects.exclude(owner=None).filter(pk__in=[first.pk, second.pk]).exists()
    assert Issue.objects.filter(acknowledged_at__isnull=False).count() == 0
    assert not OutboundEmail.objects.filter(kind="acknowledged").exists()


def test_a_refused_bulk_assign_keeps_the_ticked_boxes_without_javascript(hana, customer):
    first, _, third = issues_for(customer, 3)

    response = hana.post(reverse("issue_bulk"), {"issues": [first.pk, third.pk], "action": "assign"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose who should own the selected issues." in html
    assert ticked(html) == {first.pk, third.pk}


def test_bulk_assign_gives_the_issues_to_the_chosen_person_and_acknowledges_nothing(hana, customer, colleague):
    issues = issues_for(customer, 2)

    hana.post(reverse("issue_bulk"), {"issues": [i.pk for i in issues], "action": "assign", "owner": colleague.pk})

    changed = 0
    for issue in issues:
        issue.refresh_from_db()
        assert issue.owner == colleague and issue.acknowledged_at is None
        changed += 1
    assert changed == 2
    assert not IssueEvent.objects.filter(kind="acknowledged").exists()


def test_an_unassigned_issues_owner_select_says_unassigned_and_assign_with_it_is_refused(hana, customer):
    issue = make_issue(customer=customer, at=ago(hours=1))
    assert issue.owner is None

    page = hana.get(issue.get_absolute_url()).content.decode()
    owner = re.search(r'<select[^>]*name="assign-owner".*?</select>', page, re.DOTALL).group(0)
    assert re.search(r'<option value="" selected>Unassigned</option>', owner)

    response = hana.post(reverse("issue_assign", kwargs={"pk": issue.pk}), {"assign-owner": ""})

    assert response.status_code == 400
    assert "Choose who should own this issue." in response.content.decode()
    issue.refresh_from_db()
    assert issue.owner is None


def test_an_owned_issues_owner_select_offers_people_only(hana, customer, manager):
    issue = make_issue(customer=customer, at=ago(hours=1))
    services.assign(issue=issue, owner=manager, by=manager)

    page = hana.get(issue.get_absolute_url()).content.decode()
    owner = re.search(r'<select[^>]*name="assign-owner".*?</select>', page, re.DOTALL).group(0)

    assert "Unassigned" not in owner
    assert re.search(rf'<option value="{manager.pk}" selected>', owner)


def test_the_status_select_shows_the_current_status_and_refuses_it_unchanged(hana, customer, manager):
    issue = make_issue(customer=customer, at=ago(hours=1))
    services.acknowledge(issue=issue, by=manager)

    page = hana.get(issue.get_absolute_url()).content.decode()
    status = re.search(r'<select[^>]*name="status-status".*?</select>', page, re.DOTALL).group(0)
    assert '<option value="acknowledged" selected>Acknowledged</option>' in status
    assert "Choose a status" not in status

    response = hana.post(reverse("issue_status", kwargs={"pk": issue.pk}), {"status-status": "acknowledged"})

    assert response.status_code == 400
    assert "choose the status it should move to" in response.content.decode()


def test_resolve_without_what_was_done_is_refused_and_tells_the_customer_nothing(hana, customer, contact):
    issue = make_issue(customer=customer, at=ago(hours=1), reporter=contact)

    response = hana.post(reverse("issue_resolve", kwargs={"pk": issue.pk}), {"resolve-body": "  "})

    assert response.status_code == 400
    assert "Say what was done" in response.content.decode()
    issue.refresh_from_db()
    assert issue.status != "resolved"
    assert not OutboundEmail.objects.filter(kind="resolved").exists()


def test_the_resolve_service_refuses_an_empty_text(customer, manager):
    issue = make_issue(customer=customer, at=ago(hours=1))

    with pytest.raises(ValidationError) as refused:
        services.resolve(issue=issue, by=manager, body="")

    assert "body" in refused.value.error_dict
    services.resolve(issue=issue, by=manager, body="Replaced the fuser.")
    assert issue.status == "resolved"
