"""The account manager's day (issue 15), in a real browser, on a 1360 px desk and a 390 px phone, in English and
Korean: a customer who calls back about an old issue is found (item 3), a colleague's issues are one filter
and one saved view away, and pages that cannot be shown say why and lead back (item 7).
Screenshots: test-artifacts/issue15-<item>-<what>-<language>-<screen>.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from issues import selectors, services
from issues.models import SavedView
from tests.browser.conftest import SCREENS, screenshot, scrolls_sideways, sign_in, speak
from tests.factories import UserFactory, make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "ko"]
FIXED = "The nightly export now skips archived invoices"


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


@pytest.fixture
def a_team_at_work(people) -> dict:
    """Grace's export issue, fixed and resolved three weeks ago; Daniel's open one; an unassigned fire."""
    acme, hanbit, manager, colleague = people["acme"], people["hanbit"], people["manager"], people["colleague"]
    grace = acme.contacts.get()
    fixed = make_issue(customer=acme, at=ago(days=21), severity="orange", owner=manager, reporter=grace,
                       title="Invoices export times out")
    services.post_update(issue=fixed, body=f"{FIXED}; it finishes in two minutes.", public=True, by=manager,
                         now=ago(days=20))
    services.resolve(issue=fixed, by=manager, body="Export fixed.", now=ago(days=20) + timedelta(hours=1))
    daniels = make_issue(customer=acme, at=ago(hours=5), severity="blue", owner=colleague,
                         title="Label printer prints blank pages")
    fire = make_issue(customer=hanbit, at=ago(minutes=20), severity="red", title="이체 화면이 멈춥니다")
    make_issue(customer=acme, at=ago(hours=2), severity="green", owner=manager, title="Typo on the invoice footer")
    return {"fixed": fixed, "daniels": daniels, "fire": fire, **people}


def on_screen(page: Page, live_server, language: str, screen: str) -> Page:
    page.set_viewport_size(SCREENS[screen])
    speak(page, live_server, language)
    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    return page


def search(page: Page, words: str) -> None:
    page.locator("#id_q").fill(words)
    page.locator("#id_q").press("Enter")


def filters_in_reach(page: Page) -> None:
    """On a phone the filters wait behind "Filters (n active)": open them (on a desk they are in sight)."""
    toggle = page.locator("#filters details")
    if toggle.locator("summary").is_visible() and toggle.get_attribute("open") is None:
        toggle.locator("summary").click()


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_customer_who_calls_back_is_found_by_reference_name_address_or_what_we_wrote(
        signed_in: Page, live_server, a_team_at_work, language, screen):
    page = on_screen(signed_in, live_server, language, screen)
    fixed = a_team_at_work["fixed"]
    rows = page.locator("tr[data-issue]")
    expect(rows).to_have_count(3)  # open issues only: the resolved one is not in the way ...

    # ... but its reference, as printed in every email subject, finds it whatever the scope, and so does its number.
    for words in (f"ACME-{fixed.pk}", f"acme-{fixed.pk}", str(fixed.pk)):
        search(page, words)
        expect(page).to_have_url(re.compile(rf"\?q={re.escape(words)}$"))
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("Invoices export times out")
    expect(page.locator("[role=note]")).to_contain_text(str(fixed.pk))
    screenshot(page, f"issue15-3-search-reference-{language}-{screen}")

    # Words find it too once the scope takes in everything: the contact's name, her address, what we wrote.
    search(page, "")
    filters_in_reach(page)
    page.locator("#id_scope").select_option("all")
    expect(page).to_have_url(re.compile(r"\?scope=all$"))
    expect(rows).to_have_count(4)
    for words in ("Grace", "grace@acme", "archived invoices"):
        search(page, words)
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("Invoices export times out")
    expect(page.locator("#filters summary")).to_contain_text("(1")  # the scope narrows (here: widens) the list
    screenshot(page, f"issue15-3-search-words-{language}-{screen}")
    page.locator("#id_scope").select_option("resolved")
    expect(rows).to_have_count(1)
    page.locator("#id_scope").select_option("closed")
    expect(rows).to_have_count(0)

    # The customer's page lists it among the past issues, and leads to all of them in the inbox.
    page.goto(f"{live_server.url}/customers/acme/")
    past = page.locator("section[aria-labelledby=past-title]")
    expect(past).to_contain_text("Invoices export times out")
    expect(past).to_contain_text({"en": "Resolved", "ko": "해결됨"}[language])
    assert not scrolls_sideways(page)
    screenshot(page, f"issue15-3-customer-past-issues-{language}-{screen}")
    past.get_by_role("link", name={"en": "Every issue of this customer in the inbox",
                                   "ko": "수신함에서 이 고객의 모든 이슈 보기"}[language]).click()
    page.wait_for_url(re.compile(r"/\?scope=all&customer=acme$"))
    expect(rows).to_have_count(3)

    # Found, it can be reopened.
    page.get_by_role("link", name="Invoices export times out").click()
    expect(page.locator("form[action$='/reopen/'] button[type=submit]")).to_be_visible()


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_colleagues_issues_are_one_filter_and_then_one_saved_view_away(
        signed_in: Page, live_server, a_team_at_work, people, language, screen):
    page = on_screen(signed_in, live_server, language, screen)
    rows, daniel = page.locator("tr[data-issue]"), people["colleague"]

    # The presets everyone has: the unassigned fire is one click away.
    page.get_by_role("link", name={"en": "Unassigned red", "ko": "미배정 빨강"}[language]).click()
    page.wait_for_url(re.compile(r"/\?severity=red&owner=unassigned$"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("이체 화면이 멈춥니다")
    page.goto(f"{live_server.url}/")

    # The owner filter offers anyone of my teams, by name.
    filters_in_reach(page)
    page.locator("#id_owner").select_option(label="Daniel Cho")
    expect(page).to_have_url(re.compile(rf"\?owner={daniel.pk}$"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Label printer prints blank pages")

    # Kept under a name, the view is a link above the inbox from then on.
    page.locator("details.save-view summary").click()
    page.locator("#saved-view-name").fill("Daniel's desk")
    page.locator("details.save-view button[type=submit]").click()
    view = page.locator(".saved-views").get_by_role("link", name="Daniel's desk")
    expect(view).to_have_attribute("aria-current", "page")
    assert [v.query for v in SavedView.objects.all()] == [f"owner={daniel.pk}"]
    screenshot(page, f"issue15-3-saved-view-{language}-{screen}")
    page.goto(f"{live_server.url}/")
    expect(rows).to_have_count(3)
    view.click()
    page.wait_for_url(re.compile(rf"/\?owner={daniel.pk}$"))
    expect(rows).to_have_count(1)
    assert not scrolls_sideways(page)


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_that_cannot_be_shown_say_why_in_the_layout_and_lead_back(
        signed_in: Page, live_server, a_team_at_work, monkeypatch, language, screen):
    page = on_screen(signed_in, live_server, language, screen)
    title, way_back = page.locator("#error-title"), page.locator(".error-page a.btn")

    # 404: an address that leads nowhere.
    page.goto(f"{live_server.url}/issues/999999/")
    expect(title).to_have_text({"en": "There is nothing to show here", "ko": "여기에는 보여 줄 내용이 없습니다"}[language])
    expect(page.locator(".navbar")).to_be_visible()
    assert not scrolls_sideways(page)
    screenshot(page, f"issue15-7-404-{language}-{screen}")

    # 403: a form sent from a tab opened before Hana signed in again elsewhere (its security token is stale).
    page.goto(f"{live_server.url}/?owner=me")
    other = page.context.new_page()
    other.goto(f"{live_server.url}/preferences/")
    other.locator("form[action='/accounts/logout/'] button").first.evaluate("button => button.form.submit()")
    other.wait_for_url(re.compile(r"/accounts/login/"))
    sign_in(other, live_server, "manager")
    speak(other, live_server, language)  # signing in again speaks the person's own language: keep the story's
    other.close()
    page.locator("details.save-view summary").click()
    page.locator("#saved-view-name").fill("Mine")
    page.locator("details.save-view button[type=submit]").click()
    expect(title).to_have_text({"en": "You may not do this", "ko": "이 작업을 할 권한이 없습니다"}[language])
    expect(page.locator(".error-page")).to_contain_text({"en": "reload it", "ko": "새로"}[language])
    assert not SavedView.objects.exists()
    screenshot(page, f"issue15-7-403-{language}-{screen}")
    way_back.click()
    page.wait_for_url(f"{live_server.url}/")

    # 500: something broke on our side while listing customers.
    def broken(*args, **kwargs):
        raise RuntimeError("the customers' query failed")

    monkeypatch.setattr(selectors, "customers_overview", broken)
    page.goto(f"{live_server.url}/customers/")
    expect(title).to_have_text({"en": "Something went wrong on our side",
                                "ko": "Inloop 쪽에서 문제가 발생했습니다"}[language])
    expect(page.locator("body")).not_to_contain_text("RuntimeError")
    screenshot(page, f"issue15-7-500-{language}-{screen}")
    way_back.click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("tr[data-issue]")).to_have_count(3)


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_admin_is_titled_inloop_in_the_readers_language(page: Page, live_server, people, language, screen):
    UserFactory(username="admin", first_name="Ada", last_name="Admin", is_staff=True, is_superuser=True,
                password="correct horse battery")
    sign_in(page, live_server, "admin")
    page.set_viewport_size(SCREENS[screen])
    speak(page, live_server, language)

    page.goto(f"{live_server.url}/admin/")

    expect(page).to_have_title(re.compile(r"Inloop$"))
    expect(page.locator("#site-name")).to_have_text({"en": "Inloop administration", "ko": "Inloop 관리"}[language])
    expect(page.locator("body")).not_to_contain_text("Django")
    screenshot(page, f"issue15-7-admin-{language}-{screen}")
