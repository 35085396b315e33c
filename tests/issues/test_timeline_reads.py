"""The timeline reads like a conversation: what the customer asked on top, each email folded into the change
that sent it, the clocks' bookkeeping behind a toggle, and "took it" when someone picks an issue up."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from issues import services, story
from issues.models import EventKind, IssueEvent
from notifications.delivery import deliver_due
from tests.factories import ContactFactory, make_issue
from tests.issues.views_helpers import ago

pytestmark = pytest.mark.django_db

ASKED = "Since this morning every invoice export stops at 30 seconds."


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def conversation(customer, manager, colleague):
    """Daniel takes Acme's issue, Hana writes to its two contacts, the emails go out, a note follows."""
    ContactFactory(customer=customer, name="Grace Hopper", email="grace@acme.example.com", follows_all_issues=True)
    ContactFactory(customer=customer, name="Min-ji Kim", email="minji@acme.example.com", follows_all_issues=True)
    start = ago(hours=3)
    issue = make_issue(customer=customer, at=start, severity="orange", title="Invoices export times out",
                       description=ASKED)
    services.assign(issue=issue, owner=colleague, by=colleague, now=start + timedelta(minutes=5))
    services.acknowledge(issue=issue, by=colleague, now=start + timedelta(minutes=6))
    services.post_update(issue=issue, body="We found the stuck export job and restarted it.", public=True,
                         by=manager, now=start + timedelta(minutes=30))
    assert deliver_due(now=start + timedelta(minutes=31)) >= 4  # two acknowledgements, two updates
    services.post_update(issue=issue, body="Keep an eye on tomorrow's run.", public=False, by=manager,
                         now=start + timedelta(minutes=40))
    return issue


def page(client, issue) -> str:
    return client.get(reverse("issue_detail", args=[issue.pk])).content.decode()


def timeline_of(html: str) -> str:
    return html.split('<ol class="timeline', 1)[1]


def outside_toggles(html: str) -> str:
    return re.sub(r"<details.*?</details>", "", html, flags=re.DOTALL)


def test_what_the_customer_asked_opens_the_timeline_and_the_latest_word_follows(hana, conversation):
    timeline = timeline_of(page(hana, conversation))

    assert timeline.index(ASKED) < timeline.index("Keep an eye on tomorrow") < timeline.index("stuck export job")
    assert "entry-opening" in timeline.split(ASKED)[0]


def test_each_email_is_folded_into_the_change_that_sent_it(hana, conversation):
    timeline = timeline_of(page(hana, conversation))

    update = timeline.split("stuck export job")[1].split("</ul>")[0]
    assert "status update: sent to 2 contacts" in update
    assert "grace@acme.example.com · sent" in update and "minji@acme.example.com · sent" in update
    acknowledged = timeline.split("Daniel Cho acknowledged the issue")[1].split("</summary>")[0]
    assert "acknowledgement: sent to 2 contacts" in acknowledged
    # No line of its own for any email queued or sent.
    assert "Email queued" not in timeline and "Email sent" not in timeline
    assert IssueEvent.objects.filter(issue=conversation, kind__in=story.EMAIL_LINES).count() >= 6


def test_the_clocks_bookkeeping_waits_behind_a_toggle(hana, conversation):
    timeline = timeline_of(page(hana, conversation))

    assert "clock lines" in timeline
    assert "Acknowledge clock started" in timeline
    assert "Acknowledge clock started" not in outside_toggles(timeline)
    assert "Update clock" not in outside_toggles(timeline)


def test_who_picks_an_issue_up_took_it_and_who_hands_it_on_assigned_it(hana, conversation, manager, colleague):
    services.assign(issue=conversation, owner=manager, by=colleague)

    timeline = timeline_of(page(hana, conversation))

    assert "Daniel Cho took it" in timeline
    assert "Daniel Cho assigned it to Hana Lee" in timeline


def test_times_on_the_timeline_say_how_long_ago_with_the_exact_time_and_zone_on_hover(hana, conversation):
    timeline = timeline_of(page(hana, conversation))

    times = re.findall(r'<time datetime="[^"]+" title="([^"]+)">([^<]+)</time>', timeline)
    assert len(times) >= 5
    assert all(title.endswith("KST") for title, _ in times)
    assert {"3 h ago", "2 h ago"} <= {words for _, words in times}


def test_the_issue_page_costs_the_same_queries_however_long_the_conversation(hana, customer, manager):
    issue = make_issue(customer=customer, at=ago(days=2), description=ASKED)

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert hana.get(reverse("issue_detail", args=[issue.pk])).status_code == 200
        return len(seen)

    short = queries()
    for n in range(30):
        services.post_update(issue=issue, body=f"Note {n}", public=False, by=manager, now=ago(hours=40 - n))
        services.change_severity(issue=issue, severity=("red", "blue")[n % 2], by=manager, now=ago(hours=40 - n))

    assert queries() == short
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.SEVERITY_CHANGED).count() == 30


def test_an_email_nobody_caused_at_that_instant_keeps_a_line_of_its_own():
    lone = IssueEvent(pk=1, kind=EventKind.EMAIL_QUEUED, new_value="digest", at=ago(hours=1),
                      data={"recipients": ["lead@example.com"]})

    arranged = story.arrange([lone])

    assert arranged.opening is None
    (group,) = arranged.items
    assert group.group and group.entries[0].event is lone
