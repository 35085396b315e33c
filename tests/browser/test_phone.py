"""A phone is a first-class screen: at 390 px no page scrolls sideways, the inbox reads as cards with the clock
first, the navigation folds into a menu, and the issue page puts the composer before the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from inbound.models import Source
from inbound.pipeline import receive
from issues import services
from issues.scan import scan_sla
from tests.browser.conftest import ARTIFACTS, PASSWORD, screenshot
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
STRANGER = ("From: Olivia Grant <olivia@newcorp.example>\nTo: support@inloop.localhost\nSubject: Can you help?\n"
            "Message-ID: <phone-olivia@newcorp.example>\nContent-Type: text/plain; charset=utf-8\n\n"
            "Hello, who should we talk to about a contract? This line is long on purpose, with a-very-long-"
            "unbroken-address-like-string-that-would-push-a-phone-sideways-if-nothing-wrapped-it.\n")


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


@pytest.fixture
def a_busy_morning(people) -> dict:
    """Issues in every state the inbox and the dashboard show, with long titles and a breach."""
    cache.clear()
    manager, colleague, acme, hanbit = people["manager"], people["colleague"], people["acme"], people["hanbit"]
    fire = make_issue(customer=acme, at=ago(hours=3), severity="red", owner=manager,
                      title="Checkout is down for every customer paying with a corporate card since this morning")
    make_issue(customer=hanbit, at=ago(hours=30), severity="blue", title="계좌 이체 내역이 대시보드에 표시되지 않습니다")
    quiet = make_issue(customer=acme, at=ago(days=9), severity="orange", owner=colleague, title="Label size")
    services.acknowledge(issue=quiet, by=colleague, now=ago(days=9) + timedelta(hours=1))
    services.post_update(issue=fire, body="We are on it; the payment provider confirms an outage.", public=True,
                         by=manager, now=ago(hours=2))
    scan_sla()
    receive(STRANGER.encode(), source=Source.DEV_MAILBOX)
    return {"fire": fire, **people}


def phone_page(browser: Browser, live_server, username: str, language: str) -> Page:
    context = browser.new_context(viewport=PHONE, locale="ko-KR" if language == "ko" else "en-US",
                                  timezone_id="Asia/Seoul", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(5000)
    page.goto(f"{live_server.url}/accounts/login/")
    assert measure(page, f"phone-login-{language}") <= PHONE["width"]
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def measure(page: Page, name: str) -> int:
    """The page's width as laid out (a page wider than the screen scrolls sideways), and its screenshot."""
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_no_page_scrolls_sideways_on_a_phone(browser: Browser, live_server, a_busy_morning, language):
    page = phone_page(browser, live_server, "lead", language)
    fire, acme = a_busy_morning["fire"], a_busy_morning["acme"]
    pages = {"inbox": "/", "issue": f"/issues/{fire.pk}/", "customers": "/customers/",
             "customer": f"/customers/{acme.slug}/", "dashboard": "/dashboard/", "preferences": "/preferences/",
             "unmatched": "/inbound/", "new": "/issues/new/"}

    measured = {}
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        measured[name] = measure(page, f"phone-{name}-{language}")

    assert len(measured) == len(pages)
    assert {name: width for name, width in measured.items() if width > PHONE["width"]} == {}
    page.context.close()


def test_the_inbox_is_a_stack_of_cards_with_the_clock_first(browser: Browser, live_server, a_busy_morning):
    page = phone_page(browser, live_server, "manager", "en")

    row = page.locator("tr", has_text="Checkout is down").first
    clock, title = row.locator(".clock-cell").first, row.get_by_role("link", name="Checkout is down")
    expect(clock).to_be_visible()
    assert clock.bounding_box()["y"] < title.bounding_box()["y"]  # the clock is read first
    box = row.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # The first card starts on the first screen, not 790 px down.
    assert page.locator("tr[data-issue]").first.bounding_box()["y"] < PHONE["height"] - 100
    page.context.close()


def test_the_navigation_folds_into_a_menu_that_opens_on_a_phone(browser: Browser, live_server, a_busy_morning):
    page = phone_page(browser, live_server, "lead", "en")
    customers = page.locator("#main-menu").get_by_role("link", name="Customers")

    expect(customers).to_be_hidden()
    page.locator("#main-menu summary").click()
    expect(customers).to_be_visible()
    screenshot(page, "phone-menu-open-en")
    customers.click()
    page.wait_for_url(f"{live_server.url}/customers/")
    page.context.close()


def test_the_menu_is_reachable_without_javascript(browser: Browser, live_server, a_busy_morning):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill("lead")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")

    page.locator("#main-menu summary").click()
    page.locator("#main-menu").get_by_role("link", name="Dashboard").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    context.close()


def test_the_issue_page_puts_the_composer_before_the_timeline_on_a_phone(browser: Browser, live_server,
                                                                         a_busy_morning):
    page = phone_page(browser, live_server, "manager", "en")
    page.goto(f"{live_server.url}/issues/{a_busy_morning['fire'].pk}/")

    composer = page.locator("textarea").first
    timeline = page.locator("#timeline, .timeline").first
    expect(composer).to_be_visible()
    assert composer.bounding_box()["y"] < timeline.bounding_box()["y"]
    page.context.close()


def test_on_a_desktop_the_menu_is_a_plain_row_of_links(page: Page, live_server, a_busy_morning):
    page.set_default_timeout(5000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill("lead")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")

    expect(page.locator("#main-menu summary")).to_be_hidden()
    expect(page.locator("#main-menu").get_by_role("link", name="Customers")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1360
    screenshot(page, "desktop-inbox-menu-en")


def test_the_dashboard_tables_and_chart_scroll_inside_their_cards(browser: Browser, live_server, a_busy_morning):
    page = phone_page(browser, live_server, "lead", "en")
    page.goto(f"{live_server.url}/dashboard/")

    wide = page.evaluate("""() => [...document.querySelectorAll('.table-responsive, .trend')]
        .map(box => box.scrollWidth > box.clientWidth).filter(Boolean).length""")
    assert wide >= 2  # the compliance table and the chart are wider than the phone: they scroll in place
    label = page.locator(".trend text.axis").first.bounding_box()
    assert label["height"] >= 9  # the chart's labels stay legible instead of shrinking to a third
    page.locator(".trend").screenshot(path=str(ARTIFACTS / "phone-dashboard-chart-en.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()
