"""Urgency as the seeds grade it: a fire first, then breaches by severity, then what is at risk, then the
nearest due; badges coloured by the share of the window left; times said relatively, with the zone named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from issues import services, urgency
from issues.templatetags.inloop import clock_badge
from issues.templatetags.reading import moment, relative
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, make_issue
from tests.issues.views_helpers import ago

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def titles(response) -> list[str]:
    return [issue.title for issue in response.context["page"].object_list]


def test_a_red_issue_43_minutes_past_its_acknowledgement_ranks_above_green_issues_days_overdue(hana, customer):
    for n in range(20):
        make_issue(customer=customer, at=ago(days=4 + n % 3, hours=n), severity="green", title=f"Old green {n}")
    make_issue(customer=customer, at=ago(hours=1, minutes=43), severity="red", title="Checkout is down")

    shown = titles(hana.get(reverse("inbox")))

    assert len(shown) == 21
    assert shown[0] == "Checkout is down"


def test_a_fire_then_breaches_by_severity_then_at_risk_then_the_nearest_due(hana, customer):
    make_issue(customer=customer, at=ago(minutes=10), severity="green", title="Calm green")
    make_issue(customer=customer, at=ago(minutes=10), severity="orange", title="Calm orange")
    make_issue(customer=customer, at=ago(hours=3, minutes=30), severity="orange", title="Orange at risk")
    make_issue(customer=customer, at=ago(days=5), severity="green", title="Green breached for days")
    make_issue(customer=customer, at=ago(hours=4, minutes=10), severity="orange", title="Orange just breached")
    make_issue(customer=customer, at=ago(minutes=2), severity="red", title="Red, 58 minutes left")

    shown = titles(hana.get(reverse("inbox")))

    assert shown == ["Red, 58 minutes left", "Orange just breached", "Green breached for days", "Orange at risk",
                     "Calm orange", "Calm green"]


def test_a_customer_deadline_ranks_with_the_at_risk_ones(hana, customer, manager):
    make_issue(customer=customer, at=ago(minutes=10), severity="blue", title="Calm blue")
    needed = make_issue(customer=customer, at=ago(minutes=5), severity="green", title="Needed tonight")
    services.set_deadline(issue=needed, deadline=ago(hours=-6), by=manager)

    assert titles(hana.get(reverse("inbox"))) == ["Needed tonight", "Calm blue"]


def test_the_order_costs_the_same_queries_for_five_rows_or_forty(hana, customer):
    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert hana.get(reverse("inbox")).status_code == 200
        return len(seen)

    for n in range(5):
        make_issue(customer=customer, at=ago(hours=n), severity=("red", "orange", "blue", "green")[n % 4])
    few = queries()
    for n in range(35):
        make_issue(customer=customer, at=ago(days=n % 6, hours=n), severity=("red", "orange", "blue", "green")[n % 4])

    assert queries() == few


@pytest.mark.parametrize(("opened_minutes_ago", "band"), [
    (60, "calm"),        # 4 h window, 3 h left: 75 %
    (150, "amber"),      # 1 h 30 min left: 37 %
    (200, "red"),        # 40 min left: 17 %, and within the hour
    (250, "breached"),
])
def test_an_orange_badge_changes_colour_as_its_window_runs_out(customer, opened_minutes_ago, band):
    issue = make_issue(customer=customer, at=NOW - timedelta(minutes=opened_minutes_ago), severity="orange")

    badge = clock_badge(issue, NOW)

    assert badge.band == band
    assert badge.text  # the words say it too: "ack due in 1 h", "ack overdue 10 min"


def test_a_red_issue_with_58_minutes_left_is_red_and_a_blue_one_with_days_left_is_calm(customer):
    red = make_issue(customer=customer, at=NOW - timedelta(minutes=2), severity="red")
    blue = make_issue(customer=customer, at=NOW, severity="blue")

    red_badge, blue_badge = clock_badge(red, NOW), clock_badge(blue, NOW)

    assert (red_badge.band, blue_badge.band) == ("red", "calm")
    assert red_badge.text == "ack due in 58 min" and red_badge.symbol
    assert "KST" in red_badge.title and "% of the window left" in red_badge.title


def test_the_inbox_row_carries_the_colour_and_the_words(hana, customer):
    make_issue(customer=customer, at=ago(minutes=2), severity="red", title="Checkout is down")

    html = hana.get(reverse("inbox")).content.decode()

    row = html.split("Checkout is down")[1].split("</tr>")[0]
    assert "band-red" in row and "ack due in 5" in row


def test_share_left_is_counted_from_the_start_to_the_due_time():
    start, due = NOW, NOW + timedelta(hours=4)

    assert urgency.share_left(started_at=start, due_at=due, now=NOW + timedelta(hours=1)) == 0.75
    assert urgency.share_left(started_at=start, due_at=due, now=due + timedelta(days=2)) == 0
    # Due within the hour is never calm, whatever the window.
    assert urgency.band(started_at=NOW - timedelta(minutes=10), due_at=NOW + timedelta(minutes=50),
                        now=NOW) == urgency.Band.AMBER
    # ... and a red issue's is red: act now.
    assert urgency.band(started_at=NOW - timedelta(minutes=10), due_at=NOW + timedelta(minutes=50),
                        now=NOW, red_severity=True) == urgency.Band.RED


@pytest.mark.parametrize(("language", "later", "earlier"), [
    ("en", "in 3 h", "2 d ago"),
    ("ko", "3시간 후", "2일 전"),
])
def test_times_are_said_relatively_in_the_readers_language(language, later, earlier):
    with translation.override(language):
        assert relative(NOW + timedelta(hours=3, minutes=20), NOW) == later
        assert relative(NOW - timedelta(days=2, hours=5), NOW) == earlier


def test_the_exact_time_and_its_zone_are_on_hover_and_in_the_time_element():
    with translation.override("en"):
        html = moment(NOW + timedelta(hours=3), NOW)

    assert html == ('<time datetime="2026-11-02T04:00:00+00:00" title="Mon 2026-11-02 13:00 KST">in 3 h</time>')


def test_customer_emails_name_the_time_zone_in_english_and_korean(customer, manager):
    ContactFactory(customer=customer, name="Grace Hopper", email="grace@acme.example.com", language="en",
                   follows_all_issues=True)
    ContactFactory(customer=customer, name="김민지", email="minji@acme.example.com", language="ko",
                   follows_all_issues=True)
    issue = make_issue(customer=customer, at=NOW, severity="orange")

    services.post_update(issue=issue, body="We found the slow query.", public=True, by=manager,
                         promised_update_at=NOW + timedelta(days=1), now=NOW + timedelta(minutes=5))

    emails = {row.language: rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.PUBLIC_UPDATE)}
    assert len(emails) == 2
    assert "Tue 3 Nov 2026, 10:00 (KST)" in emails["en"].body_text
    assert "2026년 11월 3일 (화요일) 10:00 (KST)" in emails["ko"].body_text
