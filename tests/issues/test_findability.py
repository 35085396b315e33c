"""Findability: a customer who calls back is found by reference, name or words, whatever the issue's state."""

from __future__ import annotations

import pytest
from django.urls import reverse

from issues import services
from issues.models import SavedView
from tests.factories import ContactFactory, CustomerFactory, make_issue
from tests.issues.views_helpers import ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def titles(response) -> list[str]:
    return [issue.title for issue in response.context["page"].object_list]


def resolved(customer, manager, title: str):
    issue = make_issue(customer=customer, at=ago(days=3), title=title)
    services.resolve(issue=issue, by=manager, body="Restarted the exporter.")
    return issue


def test_a_closed_issue_is_found_by_its_reference_in_any_case_whatever_the_scope(hana, customer, manager):
    old = resolved(customer, manager, "Export stuck")
    services.change_status(issue=old, status="closed", by=manager)
    make_issue(customer=customer, at=ago(hours=1), title="Login slow")

    for typed in (old.reference, old.reference.lower(), f"#{old.pk}", str(old.pk)):
        response = hana.get(reverse("inbox"), {"q": typed})
        assert titles(response) == ["Export stuck"], typed
        assert "is an issue reference" in response.content.decode()


def test_a_search_finds_contacts_and_the_words_of_updates_and_notes_once_per_issue(hana, customer, manager):
    grace = ContactFactory(customer=customer, name="Grace Hopper", email="grace@acme.example.com")
    reported = make_issue(customer=customer, at=ago(hours=3), title="Reported by Grace", reporter=grace)
    noted = make_issue(customer=customer, at=ago(hours=2), title="Noted twice")
    for body in ("The CDN purge fixed it", "CDN purge again"):
        services.post_update(issue=noted, body=body, public=False, by=manager)
    make_issue(customer=customer, at=ago(hours=1), title="Unrelated")

    assert titles(hana.get(reverse("inbox"), {"q": "grace@acme"})) == [reported.title]
    assert titles(hana.get(reverse("inbox"), {"q": "hopper"})) == [reported.title]
    assert titles(hana.get(reverse("inbox"), {"q": "cdn PURGE"})) == ["Noted twice"]  # one row, not two


def test_korean_substrings_are_found(hana, customer):
    make_issue(customer=customer, at=ago(hours=1), title="결제 오류가 발생합니다")
    make_issue(customer=customer, at=ago(hours=1), title="배송 지연")

    assert titles(hana.get(reverse("inbox"), {"q": "오류"})) == ["결제 오류가 발생합니다"]


def test_the_scope_shows_waiting_resolved_closed_or_everything(hana, customer, manager):
    make_issue(customer=customer, at=ago(hours=1), title="Open one")
    resolved(customer, manager, "Resolved one")
    closed = resolved(customer, manager, "Closed one")
    services.change_status(issue=closed, status="closed", by=manager)

    seen = {scope: sorted(titles(hana.get(reverse("inbox"), {"scope": scope})))
            for scope in ("", "resolved", "closed", "all")}

    assert seen == {"": ["Open one"], "resolved": ["Resolved one"], "closed": ["Closed one"],
                    "all": ["Closed one", "Open one", "Resolved one"]}
    assert titles(hana.get(reverse("inbox"), {"q": "one"})) == ["Open one"]  # words keep to the scope
    assert sorted(titles(hana.get(reverse("inbox"), {"q": "one", "scope": "all"}))) == seen["all"]


def test_the_owner_filter_offers_anyone_of_my_teams(hana, customer, colleague, outsider):
    make_issue(customer=customer, at=ago(hours=1), title="Daniel's", owner=colleague)
    make_issue(customer=customer, at=ago(hours=1), title="Hana's")

    response = hana.get(reverse("inbox"), {"owner": colleague.pk})

    assert titles(response) == ["Daniel's"]
    offered = dict(response.context["filter_form"].fields["owner"].choices)
    assert str(colleague.pk) in offered and str(outsider.pk) not in offered and "me" in offered
    assert titles(hana.get(reverse("inbox"), {"owner": outsider.pk})) != []  # refused: the filter is dropped


def test_hana_saves_a_view_finds_it_above_the_inbox_and_deletes_it(hana, manager, colleague, customer):
    response = hana.post(reverse("saved_view_save"), {"name": "Red at Acme", "filters": "severity=red&customer=acme&page=3"})
    view = SavedView.objects.get(person=manager)
    assert view.query == "severity=red&customer=acme"
    assert response.url == f"{reverse('inbox')}?severity=red&customer=acme"

    html = hana.get(reverse("inbox")).content.decode()
    for name in ("Red at Acme", "My breached", "Unassigned red", "Waiting on the customer"):
        assert name in html

    other = SavedView.objects.create(person=colleague, name="Daniel's view")
    hana.post(reverse("saved_view_delete", args=[other.pk]))
    hana.post(reverse("saved_view_delete", args=[view.pk]))
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Daniel's view"]


def test_the_customer_page_lists_past_issues_with_a_link_to_all_of_them(hana, customer, manager):
    resolved(customer, manager, "Fixed last week")
    CustomerFactory(team=customer.team)

    html = hana.get(reverse("customer_detail", args=[customer.slug])).content.decode()

    assert "Fixed last week" in html
    assert "?scope=all&amp;customer=acme" in html


def test_the_dashboard_links_each_owner_to_their_issues(client, lead, customer, colleague):
    make_issue(customer=customer, at=ago(hours=1), owner=colleague)
    client.force_login(lead)

    html = client.get(reverse("dashboard"), {"team": customer.team_id}).content.decode()

    assert f"owner={colleague.pk}" in html


def test_the_inbox_query_count_does_not_grow_with_matches(hana, customer, manager, django_assert_max_num_queries):
    for n in range(30):
        issue = make_issue(customer=customer, at=ago(hours=n + 1), title=f"Export {n}")
        services.post_update(issue=issue, body="export note", public=False, by=manager)
    SavedView.objects.create(person=manager, name="Mine", query="owner=me")

    with django_assert_max_num_queries(14):
        response = hana.get(reverse("inbox"), {"q": "export", "scope": "all"})
    assert len(titles(response)) == 25
