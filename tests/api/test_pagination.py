"""The issue list pages with a cursor, in the inbox's order: a program walking it sees every issue exactly once,
however many are opened while it walks; the inbox's filters mean what they mean on the page."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from issues import services
from issues.filters import InboxFilterForm
from issues.selectors import inbox, visible_customers
from tests.factories import make_issue

pytestmark = pytest.mark.django_db
SEVERITIES = ["red", "orange", "blue", "green"]


def walk(client, params: dict, *, between=None) -> tuple[list[int], int]:
    """Every id the list returns, following `next` until the end; `between` runs after each page."""
    seen, pages, answer = [], 0, client.get("/api/issues", params).json()
    while True:
        pages += 1
        seen += [row["id"] for row in answer["items"]]
        if between:
            between(pages)
        if not answer["next"]:
            return seen, pages
        answer = client.get(answer["next"]).json()


def test_a_walk_sees_every_issue_once_while_new_ones_are_opened_between_its_pages(hana, customer, manager):
    rng = random.Random(17)
    now = timezone.now()
    existing = [make_issue(customer=customer, at=now - timedelta(hours=rng.randint(1, 200)),
                           severity=rng.choice(SEVERITIES), title=f"Existing {n}").pk for n in range(23)]
    for pk in existing[:6]:
        services.acknowledge(issue=services.Issue.objects.get(pk=pk), by=manager)

    def open_more(page: int) -> None:
        for n in range(2):
            make_issue(customer=customer, at=timezone.now() - timedelta(hours=rng.randint(0, 200)),
                       severity=rng.choice(SEVERITIES), title=f"Opened during page {page} #{n}")

    seen, pages = walk(hana, {"limit": 4}, between=open_more)

    assert pages >= 6
    assert len(seen) == len(set(seen))  # nothing twice
    assert set(existing) <= set(seen)  # nothing skipped


def test_the_first_page_is_the_inboxs_first_page_in_the_same_order(hana, customer, manager):
    now = timezone.now()
    for n in range(30):
        make_issue(customer=customer, at=now - timedelta(hours=n * 7), severity=SEVERITIES[n % 4], title=f"Issue {n}")
    query = InboxFilterForm({}, customers=visible_customers(manager)).query()

    page = hana.get("/api/issues").json()

    assert len(page["items"]) == 25 and page["next"]
    assert [row["id"] for row in page["items"]] == [issue.pk for issue in inbox(manager, query, now=now)[:25]]


def test_the_inbox_filters_narrow_the_list_and_a_bad_value_is_refused_in_the_forms_words(hana, customer, manager):
    now = timezone.now()
    red = make_issue(customer=customer, at=now - timedelta(hours=3), severity="red", title="Red one")
    make_issue(customer=customer, at=now - timedelta(minutes=5), severity="blue", owner=None, title="Blue one")

    reds = hana.get("/api/issues", {"severity": "red"}).json()["items"]
    breached = hana.get("/api/issues", {"clock": "breached"}).json()["items"]
    by_reference = hana.get("/api/issues", {"q": f"ACME-{red.pk}"}).json()["items"]
    stranger = hana.get("/api/issues", {"customer": "someone-else", "owner": "nobody"})

    assert [row["title"] for row in reds] == ["Red one"]
    assert [row["title"] for row in breached] == ["Red one"] and breached[0]["breached"] is True
    assert [row["id"] for row in by_reference] == [red.pk]
    assert stranger.status_code == 422 and stranger.json()["errors"] == {
        "owner": ["Select a valid choice. nobody is not one of the available choices."],
        "customer": ["Select a valid choice. someone-else is not one of the available choices."]}


def test_a_team_filter_for_a_team_not_ones_own_is_refused_not_ignored(hana, outsider):
    other_team = outsider.teams.get()

    answer = hana.get("/api/issues", {"team": other_team.pk})

    assert answer.status_code == 422 and list(answer.json()["errors"]) == ["team"]


def test_an_altered_cursor_is_refused(hana, customer):
    for n in range(3):
        make_issue(customer=customer, at=timezone.now() - timedelta(hours=n + 1), title=f"Issue {n}")
    following = hana.get("/api/issues", {"limit": 1}).json()["next"]
    cursor = following.split("cursor=")[1]

    answer = hana.get("/api/issues", {"limit": 1, "cursor": cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")})

    assert answer.status_code == 422
    assert answer.json()["errors"] == {"cursor": ["This cursor is not valid: start again from the first page."]}
