"""A team lead's morning on the overdue dashboard: what is breached, what runs out soon, who needs help
and which customers wait longest, counted exactly from the stored due times."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from issues import services
from issues.models import BusinessCalendar
from issues.reporting.counts import (
    BREACHED,
    DUE_24H,
    DUE_TODAY,
    WAITING,
    Moment,
    by_customer,
    by_owner,
    now_tiles,
)
from issues.scan import scan_sla
from issues.templatetags.reporting import inbox_url
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    make_issue,
    wait_on_customer,
)
from tests.issues.views_helpers import ago

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2025, 3, 11, 10, 0, tzinfo=SEOUL)  # a Tuesday morning
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanbit(team, manager):
    return CustomerFactory(name="Hanbit Bank", code="HANBIT", slug="hanbit", team=team, account_manager=manager)


@pytest.fixture
def morning(team, customer, contact, hanbit, manager, colleague, lead, outsider):
    """Seven issues built the real way, oldest first, with two scans on the way. Both customers have a
    contact who follows all its issues, so every acknowledgement and update is news to them."""
    ContactFactory(customer=hanbit, follows_all_issues=True)
    paused = make_issue(customer=customer, at=NOW - 11 * DAY, severity="green", owner=colleague, title="Paused")
    services.acknowledge(issue=paused, by=colleague, now=NOW - 10 * DAY - HOUR)
    wait_on_customer(paused, by=colleague, now=NOW - 2 * DAY)  # still waiting this morning
    due_today = make_issue(customer=customer, at=NOW - 7 * DAY, severity="blue", owner=manager, title="Due today")
    services.acknowledge(issue=due_today, by=manager, now=NOW - 6 * DAY - 20 * HOUR)  # update due 14:00 today
    cleared = make_issue(customer=customer, at=NOW - 3 * DAY, severity="orange", owner=manager, title="Cleared")
    scan_sla(now=NOW - 3 * DAY + 5 * HOUR)
    services.acknowledge(issue=cleared, by=manager, now=NOW - 2 * DAY)
    services.resolve(issue=cleared, by=manager, body="Fixed.", now=NOW - DAY)
    promised = make_issue(customer=hanbit, at=NOW - 2 * DAY, severity="blue", title="Promised")
    services.acknowledge(issue=promised, by=lead, now=NOW - DAY)
    services.post_update(issue=promised, body="Tomorrow morning.", public=True, by=lead, now=NOW - HOUR,
                         promised_update_at=NOW + 20 * HOUR)
    unassigned = make_issue(customer=customer, at=NOW - 30 * HOUR, severity="blue", title="Nobody's")
    fire = make_issue(customer=customer, at=NOW - 2 * HOUR, severity="red", owner=manager, title="Fire")
    soon = make_issue(customer=customer, at=NOW - HOUR, severity="orange", owner=colleague, title="Soon")
    theirs = make_issue(customer=CustomerFactory(team=outsider.teams.get()), at=NOW - 2 * DAY, severity="red")
    scan_sla(now=NOW - 30 * 60 * timedelta(seconds=1))
    return {"paused": paused, "due_today": due_today, "cleared": cleared, "promised": promised,
            "unassigned": unassigned, "fire": fire, "soon": soon, "theirs": theirs}


def counts(tiles) -> dict[str, tuple[int, dict[str, int]]]:
    return {tile.measure: (tile.total, {severity: n for severity, n in tile.by_severity if n}) for tile in tiles}


def test_now_counts_breached_due_within_a_day_and_updates_due_today_by_severity(team, morning):
    tiles = now_tiles(team, Moment.of(team, NOW))

    assert counts(tiles) == {
        BREACHED: (2, {"red": 1, "blue": 1}),  # the fire and the unassigned one; never the other team's
        DUE_24H: (3, {"orange": 1, "blue": 2}),  # soon (ack at 13:00), due today (14:00), promised (06:00)
        DUE_TODAY: (1, {"blue": 1}),  # the promise falls tomorrow; the paused issue counts nowhere ...
        WAITING: (1, {"green": 1}),  # ... but as waiting on the customer
    }
    assert tiles[-1].since == NOW - 2 * DAY  # the longest wait began with the question


def test_each_owner_shows_open_breached_at_risk_oldest_unacknowledged_and_longest_silence(
        team, morning, manager, colleague, lead):
    rows = by_owner(team, Moment.of(team, NOW))

    table = [(row.owner, row.open, row.breached, row.due_24h, row.oldest_unacknowledged, row.quiet_since)
             for row in rows]
    assert table == [
        (manager, 2, 1, 1, NOW - 2 * HOUR, NOW - 6 * DAY - 20 * HOUR),  # the fire never heard; due today since ack
        (colleague, 2, 0, 1, NOW - HOUR, NOW - 2 * DAY),  # the question is the waiting issue's last news
        (lead, 1, 0, 1, None, NOW - HOUR),
        (None, 1, 1, 0, NOW - 30 * HOUR, NOW - 30 * HOUR),  # unassigned, always last
    ]


def test_customers_are_sorted_by_longest_silence_with_their_next_promised_update(team, morning):
    rows = by_customer(team, Moment.of(team, NOW))

    assert [(row.name, row.open, row.breached, row.quiet_since, row.next_promise) for row in rows] == [
        ("Acme Logistics", 5, 2, NOW - 6 * DAY - 20 * HOUR, None),
        ("Hanbit Bank", 1, 0, NOW - HOUR, NOW + 20 * HOUR),
    ]


def test_today_ends_at_midnight_in_the_teams_own_time_zone(team, morning):
    # 10:00 in Seoul is 21:00 the evening before in New York, whose midnight comes before the 14:00 update.
    team.calendar = BusinessCalendar.objects.create(name="New York office", time_zone="America/New_York",
                                                    holiday_country="US", mon_opens=time(9), mon_closes=time(17))
    team.save()

    assert counts(now_tiles(team, Moment.of(team, NOW)))[DUE_TODAY] == (0, {})
    assert counts(now_tiles(team, Moment.of(team, NOW)))[DUE_24H] == (3, {"orange": 1, "blue": 2})


@pytest.fixture
def jisoo(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def live_morning(team, customer, hanbit, manager, colleague, lead):
    """The same kinds of issue, relative to the real clock, for the page and the inbox to agree on. Each
    customer has a contact who follows all its issues: updates are news."""
    ContactFactory(customer=customer, follows_all_issues=True)
    ContactFactory(customer=hanbit, follows_all_issues=True)
    make_issue(customer=customer, at=ago(hours=2), severity="red", owner=manager, title="Fire")
    make_issue(customer=customer, at=ago(hours=30), severity="blue", title="Nobody's")
    make_issue(customer=hanbit, at=ago(hours=1), severity="orange", owner=colleague, title="Soon")
    update_due = make_issue(customer=customer, at=ago(days=2), severity="blue", owner=manager, title="Promise")
    services.acknowledge(issue=update_due, by=manager, now=ago(days=1))
    services.post_update(issue=update_due, body="Soon.", public=True, by=manager, now=ago(minutes=5),
                         promised_update_at=ago(minutes=-30))
    scan_sla()


def test_every_count_links_to_the_inbox_filtered_to_exactly_those_issues(jisoo, team, live_morning):
    page = jisoo.get(reverse("dashboard"))
    html = page.content.decode()

    links = 0
    for tile in page.context["tiles"]:
        for severity, count in [("", tile.total), *tile.by_severity]:
            if not count:
                continue
            url = inbox_url(team, clock=tile.measure, severity=severity)
            assert url.replace("&", "&amp;") in html
            assert jisoo.get(url).context["page"].paginator.count == count, url
            links += 1
    assert links >= 6


def test_the_unassigned_row_and_customer_counts_link_into_the_inbox(jisoo, team, live_morning):
    html = jisoo.get(reverse("dashboard")).content.decode()

    for url, expected in [(inbox_url(team, owner="unassigned"), 1), (inbox_url(team, customer="acme"), 3),
                          (inbox_url(team, customer="acme", clock="breached"), 2)]:
        assert url.replace("&", "&amp;") in html
        assert jisoo.get(url).context["page"].paginator.count == expected, url


def test_the_page_says_what_each_count_means(jisoo, live_morning):
    html = jisoo.get(reverse("dashboard")).content.decode()

    assert "Not breached yet, but a clock runs out within 24 hours." in html
    assert "A cycle is met when it ends without a breach" in html
    assert "Enterprise Support" in html


def test_a_lead_of_two_teams_follows_links_into_the_chosen_teams_issues_only(client, team, customer, lead, manager):
    second = TeamFactory(name="Public Sector", lead=lead)
    ministry = CustomerFactory(team=second, name="Ministry", account_manager=lead)
    for _ in range(2):
        make_issue(customer=ministry, at=ago(hours=3), severity="red", owner=lead)
    make_issue(customer=customer, at=ago(hours=3), severity="red", owner=manager)
    client.force_login(lead)

    page = client.get(reverse("dashboard"), {"team": second.pk})

    breached = page.context["tiles"][0]
    assert (breached.measure, breached.total) == (BREACHED, 2)
    inbox = client.get(inbox_url(second, clock=BREACHED))
    assert inbox.context["page"].paginator.count == 2
    assert 'name="team"' in inbox.content.decode()  # someone of two teams can change the team in the inbox
