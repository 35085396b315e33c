"""A team lead's morning on the overdue dashboard, in a real browser, in English and in Korean."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from issues import services
from issues.scan import scan_sla
from tests.browser.conftest import screenshot, sign_in
from tests.factories import make_issue, wait_on_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def a_month_of_work(people: dict) -> None:
    """Three weeks of issues handled mostly on time, in time order, with the scan running every evening."""
    manager, colleague, acme, hanbit = people["manager"], people["colleague"], people["acme"], people["hanbit"]
    for days in range(21, 0, -1):
        morning = ago(days=days)
        owner = manager if days % 2 else colleague
        issue = make_issue(customer=acme if days % 3 else hanbit, at=morning, owner=owner,
                           severity=["orange", "red", "blue"][days % 3], title=f"Export failed on day {days}")
        if days % 5 == 0:
            scan_sla(now=morning + timedelta(hours=5))  # acknowledged too late: a breach on record
        services.acknowledge(issue=issue, by=owner, now=morning + timedelta(hours=(6 if days % 5 == 0 else 0.5)))
        services.post_update(issue=issue, body="Fixed and deployed.", public=True, by=owner,
                             now=morning + timedelta(hours=8))
        services.resolve(issue=issue, by=owner, body="Fixed.", now=morning + timedelta(hours=9))


def this_morning(people: dict) -> None:
    manager, colleague, acme, hanbit = people["manager"], people["colleague"], people["acme"], people["hanbit"]
    make_issue(customer=acme, at=ago(hours=3), severity="red", owner=manager, title="Checkout is down")
    make_issue(customer=acme, at=ago(hours=30), severity="blue", title="Invoice PDF has the wrong address")
    make_issue(customer=hanbit, at=ago(hours=1), severity="orange", owner=colleague, title="Transfers stuck in review")
    promised = make_issue(customer=hanbit, at=ago(days=2), severity="blue", owner=manager, title="Statement totals")
    services.acknowledge(issue=promised, by=manager, now=ago(days=1))
    services.post_update(issue=promised, body="We will confirm the fix tomorrow.", public=True, by=manager,
                         now=ago(hours=1), promised_update_at=ago(hours=-20))
    waiting = make_issue(customer=acme, at=ago(days=4), severity="green", owner=colleague, title="Label size")
    services.acknowledge(issue=waiting, by=colleague, now=ago(days=4) + timedelta(hours=1))
    wait_on_customer(waiting, by=colleague, now=ago(days=3))
    scan_sla()


@pytest.fixture
def lead_signed_in(page: Page, live_server, people) -> Page:
    a_month_of_work(people)
    this_morning(people)
    return sign_in(page, live_server, "lead")


def test_the_lead_sees_the_morning_at_a_glance_and_follows_a_count_into_the_inbox(lead_signed_in: Page):
    page = lead_signed_in
    page.get_by_role("link", name="Dashboard").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Overdue dashboard · Enterprise Support")
    breached = page.locator(".tile-breached .tile-count")
    expect(breached).to_have_text("2")
    expect(page.locator(".tile-due_24h .tile-count")).to_have_text("2")
    expect(page.get_by_role("table", name="Open issues per owner, busiest first")).to_contain_text("Hana Lee")
    expect(page.get_by_role("table", name="Customers with open issues, longest silence first")).to_contain_text(
        "Hanbit Bank")
    expect(page.locator("figure.trend svg circle")).not_to_have_count(0)
    screenshot(page, "dashboard-en")

    breached.click()

    expect(page).to_have_url(re.compile(r"/\?team=\d+&clock=breached$"))
    rows = page.locator(".inbox tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(".inbox tbody")).to_contain_text("Checkout is down")
    expect(page.locator(".inbox tbody")).to_contain_text("Invoice PDF has the wrong address")
    expect(page.get_by_label("Clock")).to_have_value("breached")
    screenshot(page, "dashboard-inbox-breached-en")


def test_the_dashboard_reads_well_in_korean(lead_signed_in: Page):
    page = lead_signed_in
    page.locator("#language-switch").select_option("ko")
    page.get_by_role("link", name="대시보드").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("기한 관리 대시보드")
    expect(page.locator(".tile-breached h3")).to_have_text("기한 초과")
    screenshot(page, "dashboard-ko")
