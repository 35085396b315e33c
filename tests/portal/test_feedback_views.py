"""Grace opens Acme's resolved issue from the link in her email and says what she thinks of the resolution:
solved, not solved (her words reopen it), and a rating. Every form is a POST through her link, confirmed on the
page she comes back to; a GET changes nothing; a double click records once; a link that is not hers opens
nothing."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from issues import services
from issues.models import EventKind, Feedback, IssueEvent, Status
from notifications.links import customer_page_path
from notifications.models import EmailKind, OutboundEmail
from tests.factories import make_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The page counts requests per link and per client in the cache: each story starts afresh."""
    cache.clear()


@pytest.fixture
def issue(customer, contact, manager):
    issue = make_issue(customer=customer, at=timezone.now(), owner=manager, reporter=contact)
    services.acknowledge(issue=issue, by=manager)
    services.resolve(issue=issue, by=manager, body="The export now runs in the background.")
    return issue


def page_of(issue, contact) -> str:
    return customer_page_path(issue.pk, contact.pk, address=contact.email, generation=contact.page_links_generation)


def action(issue, contact, name: str) -> str:
    token = page_of(issue, contact).rstrip("/").rsplit("/", 1)[1]
    return reverse(f"portal:{name}", kwargs={"token": token})


def token_of(html: str, prefix: str) -> str:
    return re.search(rf'name="{prefix}-token" value="([0-9a-f]{{32}})"', html).group(1)


def test_grace_says_it_is_solved_and_the_page_confirms_it(client, issue, contact):
    page = client.get(page_of(issue, contact)).content.decode()
    assert "Did this solve your problem?" in page and "How did we do?" in page

    response = client.post(action(issue, contact, "solved"), {"solved-token": token_of(page, "solved")}, follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Thank you: we noted that it is solved. A copy went to grace@acme.example.com." in html
    assert "You told us it is solved. Thank you." in html
    assert response.redirect_chain[-1][0] == page_of(issue, contact)
    assert Feedback.objects.get().solved is True
    assert OutboundEmail.objects.filter(kind=EmailKind.FEEDBACK_COPY, recipient=contact.email).count() == 1


def test_grace_rates_it_and_may_change_her_rating(client, issue, contact):
    page = client.get(page_of(issue, contact)).content.decode()
    assert page.count('type="radio" name="rating-score"') == 5

    client.post(action(issue, contact, "rate"), {"rating-token": token_of(page, "rating"), "rating-score": "2",
                                                 "rating-comment": "Took a week."})
    again = client.get(page_of(issue, contact)).content.decode()
    client.post(action(issue, contact, "rate"), {"rating-token": token_of(again, "rating"), "rating-score": "4",
                                                 "rating-comment": "Took a week, but it works."})

    [given] = Feedback.objects.all()
    assert (given.score, given.comment) == (4, "Took a week, but it works.")
    assert "Change my rating" in again and 'value="2" id="id_rating-score_3" checked' in again
    assert "Took a week." in again
    assert OutboundEmail.objects.filter(kind=EmailKind.LOW_RATING).count() == 2  # Hana and Jisoo, for the 2


def test_not_solved_reopens_the_issue_with_her_words_and_she_sees_them_on_the_page(client, issue, contact, manager):
    page = client.get(page_of(issue, contact)).content.decode()

    response = client.post(action(issue, contact, "not_solved"), {
        "not_solved-token": token_of(page, "not_solved"), "not_solved-words": "It still stops at 10,000 rows."},
        follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "the issue is open again and Hana Lee has your words" in html
    assert "It still stops at 10,000 rows." in html
    assert "Did this solve your problem?" not in html  # open again: nothing to judge
    issue.refresh_from_db()
    assert issue.status == Status.NEW
    assert OutboundEmail.objects.filter(kind=EmailKind.CUSTOMER_MESSAGE, recipient=manager.email).count() == 1


def test_not_solved_without_words_comes_back_with_the_reason_and_changes_nothing(client, issue, contact):
    page = client.get(page_of(issue, contact)).content.decode()

    response = client.post(action(issue, contact, "not_solved"), {
        "not_solved-token": token_of(page, "not_solved"), "not_solved-words": "   "})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Tell us what is still wrong" in html and "<details class=\"not-solved\" open>" in html
    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED and not Feedback.objects.exists()


def test_a_rating_without_stars_comes_back_with_the_reason(client, issue, contact):
    page = client.get(page_of(issue, contact)).content.decode()

    response = client.post(action(issue, contact, "rate"), {"rating-token": token_of(page, "rating"),
                                                            "rating-comment": "Good"})

    assert response.status_code == 400
    assert "Choose a rating from 1 to 5." in response.content.decode()
    assert not Feedback.objects.exists()


def test_the_same_rating_form_sent_twice_records_once(client, issue, contact):
    page = client.get(page_of(issue, contact)).content.decode()
    form = {"rating-token": token_of(page, "rating"), "rating-score": "5", "rating-comment": ""}

    first = client.post(action(issue, contact, "rate"), form)
    second = client.post(action(issue, contact, "rate"), form)

    assert first.status_code == second.status_code == 302
    assert IssueEvent.objects.filter(kind=EventKind.RATED).count() == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.FEEDBACK_COPY).count() == 1


def test_get_changes_nothing(client, issue, contact):
    events, emails = IssueEvent.objects.count(), OutboundEmail.objects.count()

    assert client.get(page_of(issue, contact)).status_code == 200
    for name in ("solved", "not_solved", "rate"):
        assert client.get(action(issue, contact, name), {"rating-score": "1"}).status_code == 405

    assert not Feedback.objects.exists()
    assert (IssueEvent.objects.count(), OutboundEmail.objects.count()) == (events, emails)


def test_a_post_without_the_csrf_token_is_refused(issue, contact):
    client = Client(enforce_csrf_checks=True)

    response = client.post(action(issue, contact, "rate"), {"rating-score": "1"})

    assert response.status_code == 403
    assert not Feedback.objects.exists()


def test_a_tampered_link_opens_nothing_and_records_nothing(client, issue, contact):
    url = action(issue, contact, "rate")
    tampered = re.sub(r"-([a-z2-7])([a-z2-7]{25})/", lambda m: "-" + ("b" if m.group(1) == "a" else "a") + m.group(2) + "/", url)

    response = client.post(tampered, {"rating-score": "1"})

    assert tampered != url and response.status_code == 404
    assert not Feedback.objects.exists()


def test_while_the_issue_is_open_the_page_asks_nothing_and_a_rating_is_refused(client, customer, contact, manager):
    issue = make_issue(customer=customer, at=timezone.now(), owner=manager, reporter=contact)

    page = client.get(page_of(issue, contact)).content.decode()
    response = client.post(action(issue, contact, "rate"), {"rating-score": "5"})

    assert "Did this solve your problem?" not in page and "How did we do?" not in page
    assert response.status_code == 400
    assert "This issue is not resolved" in response.content.decode()
    assert not Feedback.objects.exists()
