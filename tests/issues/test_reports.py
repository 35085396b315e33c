"""Compliance on a known history, and the CSV exports a lead hands to their manager."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse

from issues import services
from issues.models import Breach, Clock
from issues.reporting.compliance import WINDOWS, Share, compliance, recount
from issues.reporting.counts import Moment
from issues.reporting.exports import excel_safe
from issues.scan import scan_sla
from tests.factories import CustomerFactory, UserFactory, make_issue, wait_on_customer

SEOUL = ZoneInfo("Asia/Seoul")
TODAY = datetime(2025, 3, 11, 0, 0, tzinfo=SEOUL)
NOW = TODAY + timedelta(hours=10)
HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)

pytestmark = pytest.mark.django_db


def day(n: int, hour: int, minute: int = 0) -> datetime:
    """`n` days before today, at a local time."""
    return TODAY - timedelta(days=n) + timedelta(hours=hour, minutes=minute)


@pytest.fixture
def history(team, customer, contact, manager):
    """Seven issues over the last 40 days, built in time order through the services and the scan (Grace
    follows them all: every update is news)."""
    old = make_issue(customer=customer, at=day(40, 9), severity="blue", owner=manager)
    services.acknowledge(issue=old, by=manager, now=day(39, 8))  # met, 23 h
    services.resolve(issue=old, by=manager, body="Fixed.", now=day(38, 9))  # update cycle met: only in the 90 days
    waiting = make_issue(customer=customer, at=day(5, 8), severity="green", owner=manager)
    services.acknowledge(issue=waiting, by=manager, now=day(5, 9))  # met, 1 h
    wait_on_customer(waiting, by=manager, now=day(4, 9))
    services.post_update(issue=waiting, body="Any news?", public=True, by=manager, now=day(3, 12))  # met; we go on
    late = make_issue(customer=customer, at=day(3, 9), severity="red", owner=manager)
    assert scan_sla(now=day(3, 10, 5)).breaches == 1  # acknowledge missed
    services.acknowledge(issue=late, by=manager, now=day(3, 11))  # ends the breached cycle: not met, 2 h
    fine = make_issue(customer=customer, at=day(2, 10), severity="red", owner=manager)
    services.acknowledge(issue=fine, by=manager, now=day(2, 10, 30))  # met, 30 min
    moved = make_issue(customer=customer, at=day(2, 9), severity="blue", owner=manager)
    wait_on_customer(moved, by=manager, now=day(2, 10))  # ack met
    # ...and its update clock starts paused: a start, not the end of an update cycle
    assert scan_sla(now=day(2, 11, 5)).breaches == 1  # the late issue's update missed; it still runs
    services.post_update(issue=fine, body="Found it.", public=True, by=manager, now=day(2, 12))  # met
    quick = make_issue(customer=customer, at=day(1, 9), severity="orange", owner=manager)
    services.resolve(issue=quick, by=manager, body="Fixed.", now=day(1, 10))  # never acknowledged, resolved in time: met
    services.reopen(issue=quick, by=manager, now=day(1, 11))
    services.acknowledge(issue=quick, by=manager, now=day(1, 12))  # the reopened cycle: met, 1 h
    answered = make_issue(customer=customer, at=day(1, 9), severity="blue", owner=manager)
    services.post_update(issue=answered, body="On it.", public=True, by=manager, now=day(1, 10))  # acknowledges
    services.resolve(issue=fine, by=manager, body="Fixed.", now=day(1, 15))  # update cycle met


def table(team, moment) -> dict:
    report = compliance(team, moment)
    return {row.severity or "all": row for row in report.rows}


def test_compliance_counts_met_cycles_when_they_end_and_missed_ones_when_they_breach(team, history):
    rows = table(team, Moment.of(team, NOW))

    seven, thirty, ninety = 0, 1, 2
    assert rows["red"].acknowledge[seven] == Share(met=1, missed=1)
    assert rows["red"].update[seven] == Share(met=2, missed=1)  # the running, breached cycle counts as missed
    assert rows["orange"].acknowledge[seven] == Share(met=2, missed=0)  # resolved before acknowledging; reopened
    assert rows["blue"].acknowledge[seven] == Share(met=2, missed=0)  # by a public update, by waiting on them...
    assert rows["blue"].update[seven] == Share(met=0, missed=0)  # ...which start the update clock, not end it
    assert rows["green"].update[seven] == Share(met=2, missed=0)  # the question, then an update while waiting
    assert rows["all"].acknowledge[seven] == Share(met=6, missed=1)
    assert rows["all"].update[seven] == Share(met=4, missed=1)
    assert rows["all"].acknowledge[thirty] == rows["all"].acknowledge[seven]
    assert rows["all"].acknowledge[ninety] == Share(met=7, missed=1)
    assert rows["all"].update[ninety] == Share(met=5, missed=1)
    assert (rows["all"].acknowledge[seven].percent, rows["all"].update[seven].percent) == (85, 80)


def test_a_cleared_breach_still_counts_as_missed(team, history):
    assert Breach.objects.filter(clock=Clock.ACKNOWLEDGE).exclude(cleared_at=None).count() == 1

    assert table(team, Moment.of(team, NOW))["red"].acknowledge[0].missed == 1


def test_the_median_time_to_acknowledge_is_per_severity_and_window(team, history):
    rows = table(team, Moment.of(team, NOW))

    assert rows["red"].median_acknowledge == [75 * MINUTE] * 3  # 30 min and 2 h
    assert rows["green"].median_acknowledge == [HOUR] * 3
    assert rows["blue"].median_acknowledge == [HOUR] * 3  # 1 h and 1 h; and 23 h in the 90 days
    assert rows["orange"].median_acknowledge == [HOUR] * 3  # counted from the reopening


def test_the_daily_trend_covers_the_last_30_local_days(team, history):
    trend = compliance(team, Moment.of(team, NOW)).trend

    assert len(trend) == 30 and trend[-1].day == date(2025, 3, 11)
    by_day = {point.day: point for point in trend}
    assert by_day[date(2025, 3, 9)].acknowledge == Share(met=2, missed=0)
    assert by_day[date(2025, 3, 9)].update == Share(met=1, missed=1)
    assert by_day[date(2025, 3, 8)].acknowledge == Share(met=0, missed=1)
    assert by_day[date(2025, 3, 8)].update == Share(met=1, missed=0)


def test_the_roll_ups_say_what_the_timeline_says(team, history):
    assert compliance(team, Moment.of(team, NOW)) == recount(team, Moment.of(team, NOW))


def test_the_figures_are_live_a_breach_counts_the_moment_it_is_recorded(team, customer, manager, history,
                                                                        django_assert_num_queries):
    compliance(team, Moment.of(team, NOW))  # the first look counts the team's history into its days
    fire = make_issue(customer=customer, at=NOW - 2 * HOUR, severity="red", owner=manager)
    assert scan_sla(now=NOW - HOUR + MINUTE).breaches == 1

    medians = 1 if connection.vendor == "postgresql" else len(WINDOWS)  # elsewhere one query per window
    with django_assert_num_queries(3 + medians):  # the basis, the customers, the days; the medians
        rows = table(team, Moment.of(team, NOW))

    assert rows["red"].acknowledge[0] == Share(met=1, missed=2)
    services.acknowledge(issue=fire, by=manager, now=NOW - MINUTE)  # late: ended, but not in time
    assert table(team, Moment.of(team, NOW))["red"].acknowledge[0] == Share(met=1, missed=2)
    assert table(team, Moment.of(team, NOW))["red"].update[0] == Share(met=2, missed=1)


def test_another_teams_history_is_not_counted(team, history, outsider):
    theirs = make_issue(customer=CustomerFactory(team=outsider.teams.get()), at=day(1, 9), severity="red")
    scan_sla(now=day(1, 11))
    services.acknowledge(issue=theirs, by=outsider, now=day(1, 12))

    assert table(team, Moment.of(team, NOW))["red"].acknowledge[0] == Share(met=1, missed=1)


# --- CSV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "safe"), [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("+1+1", "'+1+1"), ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t'=1"), ("Acme", "Acme"), ("", ""), (3.5, 3.5),
])
def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(cell, safe):
    assert excel_safe(cell) == safe


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with the byte-order mark
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture
def jisoo(client, lead):
    client.force_login(lead)
    return client


def test_the_breach_csv_lists_the_period_with_how_late_each_one_was(jisoo, team, history):
    response = jisoo.get(reverse("dashboard_breaches_csv"), {"first": "2025-03-08", "last": "2025-03-09"})

    rows = read_csv(response)
    assert rows[0] == ["Issue", "Title", "Customer", "Owner", "Severity", "Clock", "Due at", "Breached at",
                       "Cleared at", "Hours late", "Promise broken", "Lead told", "Escalated at", "Escalated to",
                       "Morning reminders"]
    late_id = Breach.objects.order_by("breached_at").first().issue_id
    assert rows[1] == [f"ACME-{late_id}", "Invoices export times out", "Acme Logistics", "Hana Lee", "Red",
                       "acknowledge", "2025-03-08 10:00", "2025-03-08 10:05", "2025-03-08 11:00", "1.0", *rows[1][10:]]
    assert len(rows[1]) == len(rows[0])
    assert rows[2][5:9] == ["update", "2025-03-09 11:00", "2025-03-09 11:05", ""]  # still running: late until now
    assert float(rows[2][9]) > 24 * 365
    assert len(rows) == 3
    assert 'filename="breaches-team-' in response["Content-Disposition"]


def test_the_breach_csv_neutralises_formulas_in_titles_customers_and_names(jisoo, team, lead):
    evil_customer = CustomerFactory(team=team, name="=cmd|' /C calc'!A0", code="EVIL", slug="evil")
    owner = UserFactory(username="mallory", first_name="@Mallory", last_name="+1")
    team.members.add(owner)
    make_issue(customer=evil_customer, at=datetime(2025, 3, 10, 9, tzinfo=SEOUL), severity="red",
               title="-2+3 invoices", owner=owner)
    scan_sla(now=datetime(2025, 3, 10, 11, tzinfo=SEOUL))

    rows = read_csv(jisoo.get(reverse("dashboard_breaches_csv"), {"first": "2025-03-10", "last": "2025-03-10"}))

    assert rows[1][1:4] == ["'-2+3 invoices", "'=cmd|' /C calc'!A0", "'@Mallory +1"]


def test_a_period_that_ends_before_it_starts_is_refused_on_the_page(jisoo, history):
    response = jisoo.get(reverse("dashboard_breaches_csv"), {"first": "2025-03-09", "last": "2025-03-01"})

    assert response.status_code == 400
    assert "The period must end on or after its first day." in response.content.decode()


def test_the_owner_csv_has_the_rows_of_the_table(jisoo, team, history, manager):
    rows = read_csv(jisoo.get(reverse("dashboard_owners_csv")))

    assert rows[0] == ["Owner", "Open issues", "Breached", "Due within 24 h", "Oldest unacknowledged since",
                       "Longest silence since"]
    assert [row[0] for row in rows[1:]] == ["Hana Lee", "Daniel Cho", "Jisoo Kim", "Unassigned"]
    assert rows[1][1:3] == ["5", "4"]  # five open; the one still waiting on the customer is paused, the rest breached
