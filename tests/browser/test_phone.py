"""A phone is a first-class screen (issue 15, item 5): at 390 px no page scrolls sideways, the inbox reads as
cards with the clock first and its filters folded, the navigation folds into a menu, the issue page puts the
composer before the timeline, and the dashboard's tables and chart scroll inside their cards. Each story is
told on a 390 px phone and on a 1360 px desk, in English and in Korean."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from inbound.models import Source
from inbound.pipeline import receive
from issues import services
from issues.scan import scan_sla
from tests.browser.conftest import (
    ARTIFACTS,
    PASSWORD,
    SCREENS,
    screenshot,
    scrolls_sideways,
)
from tests.factories import TeamFactory, make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "ko"]
STRANGER = ("From: Olivia Grant <olivia@newcorp.example>\nTo: support@inloop.localhost\nSubject: Can you help?\n"
            "Message-ID: <phone-olivia@newcorp.example>\nContent-Type: text/plain; charset=utf-8\n\n"
            "Hello, who should we talk to about a contract? This line is long on purpose, with a-very-long-"
            "unbroken-address-like-string-that-would-push-a-phone-sideways-if-nothing-wrapped-it.\n")
# A <time> as the app writes it: relative words, the exact time and its zone on hover.
EXACT_WITH_ZONE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} KST$")
RELATIVE = {"en": re.compile(r"^(in .+|.+ ago|just now)$"), "ko": re.compile(r"(후|전|방금)$")}


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


@pytest.fixture
def a_busy_morning(people) -> dict:
    """Issues in every state the inbox and the dashboard show, with long titles, a breach and a past issue."""
    cache.clear()
    manager, colleague, acme, hanbit = people["manager"], people["colleague"], people["acme"], people["hanbit"]
    fire = make_issue(customer=acme, at=ago(hours=3), severity="red", owner=manager,
                      title="Checkout is down for every customer paying with a corporate card since this morning")
    make_issue(customer=hanbit, at=ago(hours=30), severity="blue", title="계좌 이체 내역이 대시보드에 표시되지 않습니다")
    quiet = make_issue(customer=acme, at=ago(days=9), severity="orange", owner=colleague, title="Label size")
    services.acknowledge(issue=quiet, by=colleague, now=ago(days=9) + timedelta(hours=1))
    services.post_update(issue=fire, body="We are on it; the payment provider confirms an outage.", public=True,
                         by=manager, now=ago(hours=2))
    past = make_issue(customer=acme, at=ago(days=12), severity="green", owner=manager,
                      title="The delivery note prints the warehouse address instead of the customer's")
    services.resolve(issue=past, by=manager, body="Template fixed.", now=ago(days=11))
    scan_sla()
    receive(STRANGER.encode(), source=Source.DEV_MAILBOX)
    return {"fire": fire, "past": past, **people}


@pytest.fixture
def open_screen(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """A signed-in page on a phone (a touch screen 390 px wide) or a desk, in English or Korean. Like the
    `page` fixture's, its pages may need nothing the Content Security Policy forbids."""
    contexts, refused = [], []

    def open_page(username: str, language: str, screen: str = "390", javascript: bool = True) -> Page:
        phone = screen == "390"
        context = browser.new_context(viewport=SCREENS[screen], locale="ko-KR" if language == "ko" else "en-US",
                                      timezone_id="Asia/Seoul", is_mobile=phone, has_touch=phone,
                                      java_script_enabled=javascript)
        context.on("console", lambda message: refused.append(message.text)
                   if "Content Security Policy" in message.text else None)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(5000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form:has(input[name=password]) button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/")
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", language)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not refused, refused


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_scrolls_sideways(open_screen, live_server, a_busy_morning, language, screen):
    page = open_screen("lead", language, screen)
    fire, past, acme = a_busy_morning["fire"], a_busy_morning["past"], a_busy_morning["acme"]
    pages = {"inbox": "/", "issue": f"/issues/{fire.pk}/", "past-issue": f"/issues/{past.pk}/",
             "customers": "/customers/", "customer": f"/customers/{acme.slug}/", "dashboard": "/dashboard/",
             "preferences": "/preferences/", "unmatched": "/inbound/", "new": "/issues/new/",
             "search-everything": "/?scope=all&q=the", "not-found": "/no-such-page/"}

    wide, statuses = [], {}
    for name, path in pages.items():
        statuses[name] = page.goto(f"{live_server.url}{path}").status
        if screen == "390":  # the desk's pages are pictured by the stories below and in the other files
            screenshot(page, f"issue15-5-{name}-{language}-{screen}")
        if scrolls_sideways(page):
            wide.append(name)
    # The sign-in page too, signed out.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    if screen == "390":
        screenshot(page, f"issue15-5-login-{language}-{screen}")
    if scrolls_sideways(page):
        wide.append("login")

    assert wide == []
    # Each page was measured as it is, not an error page instead of it.
    assert {name for name, status in statuses.items() if status != 200} == {"not-found"}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_inbox_reads_clock_first_with_its_filters_and_menu_folded_on_a_phone(
        open_screen, live_server, a_busy_morning, language, screen):
    page = open_screen("manager", language, screen)
    row = page.locator("tr[data-issue]", has_text="Checkout is down").first
    clock, title = row.locator(".clock-cell").first, row.locator(".issue-link")
    filters, severity = page.locator("#filters details"), page.locator("#id_severity")
    customers = page.locator("#main-menu").get_by_role("link", name={"en": "Customers", "ko": "고객사"}[language])
    expect(clock).to_be_visible()
    expect(filters.locator("summary")).not_to_contain_text("(")  # nothing narrows the list yet

    if screen == "desktop":
        # A table: the clock is the last column and still on screen; the filters and the menu in plain sight.
        assert clock.bounding_box()["x"] > title.bounding_box()["x"]
        assert clock.bounding_box()["x"] + clock.bounding_box()["width"] <= SCREENS[screen]["width"]
        expect(severity).to_be_visible()
        expect(filters.locator("summary")).to_be_hidden()
        expect(page.locator("#main-menu summary")).to_be_hidden()
        expect(customers).to_be_visible()
        screenshot(page, f"issue15-5-inbox-{language}-{screen}")
    else:
        # Cards: the clock is read first, each card fits the screen, the first one starts on the first screen.
        assert clock.bounding_box()["y"] < title.bounding_box()["y"]
        box = row.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= SCREENS[screen]["width"]
        assert page.locator("tr[data-issue]").first.bounding_box()["y"] < SCREENS[screen]["height"] - 100
        expect(severity).to_be_hidden()  # the filters wait behind one line ...
        screenshot(page, f"issue15-5-inbox-{language}-{screen}")
        filters.locator("summary").click()  # ... that opens them
        expect(severity).to_be_visible()

    severity.select_option("red")
    expect(page.locator("tr[data-issue]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"\?severity=red$"))
    page.locator("#id_owner").select_option("me")
    expect(page).to_have_url(re.compile(r"\?severity=red&owner=me$"))
    expect(filters.locator("summary")).to_contain_text("(2")  # "Filters (2 active)", brought up to date
    screenshot(page, f"issue15-5-inbox-filtered-{language}-{screen}")

    if screen == "390":
        page.reload()  # a filtered inbox opens with its filters folded and counted
        expect(severity).to_be_hidden()
        expect(filters.locator("summary")).to_contain_text("(2")
        expect(customers).to_be_hidden()
        page.locator("#main-menu summary").click()
        expect(customers).to_be_visible()
        screenshot(page, f"issue15-5-menu-open-{language}-{screen}")
    customers.click()
    page.wait_for_url(f"{live_server.url}/customers/")


def test_without_javascript_the_phones_menu_and_filters_still_open(open_screen, live_server, a_busy_morning):
    page = open_screen("lead", "en", "390", javascript=False)

    page.locator("#filters summary").click()
    page.locator("#id_severity").select_option("red")
    page.locator("#filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"\?.*severity=red"))
    expect(page.locator("tr[data-issue]")).to_have_count(1)
    expect(page.locator("#filters summary")).to_have_text("Filters (1 active)")
    screenshot(page, "issue15-5-inbox-filtered-without-javascript-en-390")

    page.locator("#main-menu summary").click()
    page.locator("#main-menu").get_by_role("link", name="Dashboard").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_issue_page_puts_the_composer_before_the_timeline_and_its_clocks_name_the_zone(
        open_screen, live_server, a_busy_morning, language, screen):
    page = open_screen("manager", language, screen)
    page.goto(f"{live_server.url}/issues/{a_busy_morning['fire'].pk}/")

    composer = page.locator("textarea").first
    timeline = page.locator("#timeline, .timeline").first
    expect(composer).to_be_visible()
    assert composer.bounding_box()["y"] < timeline.bounding_box()["y"]
    # The clocks card says times as the rest of the app does: relative, the exact time and zone on hover.
    times = page.locator(".clocks time")
    expect(times).to_have_count(3)  # acknowledged, the update due, the customer last heard from us
    for moment in times.all():
        expect(moment).to_have_attribute("title", EXACT_WITH_ZONE)
        expect(moment).to_have_text(RELATIVE[language])
    screenshot(page, f"issue15-5-issue-{language}-{screen}")


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_dashboard_fits_its_cards_and_leads_to_each_owners_issues(
        open_screen, live_server, a_busy_morning, people, language, screen):
    TeamFactory(name="Retail Support", lead=people["acme"].team.lead)
    page = open_screen("lead", language, screen)
    page.goto(f"{live_server.url}/dashboard/")

    scrolling = page.evaluate("""() => [...document.querySelectorAll('.table-responsive, .trend')]
        .filter(box => box.scrollWidth > box.clientWidth).length""")
    if screen == "390":
        assert scrolling >= 2  # the compliance table and the chart are wider than the phone: they scroll in place
    label = page.locator(".trend text.axis").first.bounding_box()
    assert label["height"] >= 9  # the chart's labels stay legible instead of shrinking to a third
    assert not scrolls_sideways(page)
    page.locator(".trend").screenshot(path=str(ARTIFACTS / f"issue15-5-dashboard-chart-{language}-{screen}.png"))
    screenshot(page, f"issue15-5-dashboard-{language}-{screen}")

    # Item 3: an owner's row leads to that owner's issues in the inbox.
    page.locator("section[aria-labelledby=owners-title]").get_by_role("link", name="Daniel Cho").click()
    page.wait_for_url(re.compile(rf"/\?team=\d+&owner={people['colleague'].pk}$"))
    expect(page.locator("tr[data-issue]")).to_have_count(1)
    expect(page.locator("tr[data-issue]")).to_contain_text("Label size")

    # The lead of two teams switches with the picker: with JavaScript on, choosing is enough.
    page.goto(f"{live_server.url}/dashboard/")
    page.locator("#team-select").select_option(label="Retail Support")
    page.wait_for_url(re.compile(r"/dashboard/\?team=\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Retail Support")
