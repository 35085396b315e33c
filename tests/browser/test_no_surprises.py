"""No surprise actions, in a real browser, on a desk and on a 390 px phone, in English and Korean."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from issues.models import Issue
from notifications.models import OutboundEmail
from tests.browser.conftest import screenshot, sign_in
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {"desktop": {"width": 1360, "height": 900}, "phone": {"width": 390, "height": 844}}


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def speak(page: Page, live_server, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_bulk_bar_does_nothing_unchosen_and_keeps_the_ticks_after_a_refusal(
        browser: Browser, live_server, people, screen, language):
    # With JavaScript (htmx swaps the results); the plain-HTML path is covered by the view tests.
    context = browser.new_context(viewport=SCREENS[screen], timezone_id="Asia/Seoul")
    page = sign_in(context.new_page(), live_server, "manager")
    acme = people["acme"]
    first = make_issue(customer=acme, at=ago(minutes=30), title="Invoices export times out",
                       reporter=acme.contacts.get())
    second = make_issue(customer=acme, at=ago(minutes=20), title="Labels print blank")
    speak(page, live_server, language)
    page.reload()

    page.locator(f"#select-{first.pk}").check()
    page.locator(f"#select-{second.pk}").check()
    page.locator("#bulk-owner").select_option(label="Daniel Cho")
    page.locator("#bulk-form button[type=submit]").click()
    # No action chosen: the browser refuses to send the form, and nothing reaches anyone.
    assert page.locator("#bulk-action").evaluate("select => !select.validity.valid")
    assert not Issue.objects.exclude(owner=None).exists()
    assert not OutboundEmail.objects.filter(kind="acknowledged").exists()

    page.locator("#bulk-action").select_option("assign")
    page.locator("#bulk-owner").select_option("")
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator("#bulk-owner-error")).to_be_visible()
    expect(page.locator(f"#select-{first.pk}")).to_be_checked()
    expect(page.locator(f"#select-{second.pk}")).to_be_checked()
    screenshot(page, f"i15-bulk-refused-{screen}-{language}")

    page.locator("#bulk-owner").select_option(label="Daniel Cho")
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator(f"tr[data-issue='{first.pk}']")).to_contain_text("Daniel Cho")
    owners = set(Issue.objects.values_list("owner__username", flat=True))
    assert owners == {"daniel"}
    assert not Issue.objects.exclude(acknowledged_at=None).exists()
    context.close()


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_resolve_asks_what_was_done_and_the_selects_say_what_is(signed_in: Page, live_server, people, screen,
                                                                  language):
    acme = people["acme"]
    issue = make_issue(customer=acme, at=ago(minutes=30), title="Labels print blank", reporter=acme.contacts.get())
    page = signed_in
    page.set_viewport_size(SCREENS[screen])
    speak(page, live_server, language)
    page.goto(f"{live_server.url}{issue.get_absolute_url()}")

    owner = page.locator("select[name='assign-owner']")
    assert owner.evaluate("select => select.value") == ""
    assert page.locator("select[name='status-status']").evaluate("select => select.value") == "new"

    page.locator("form[action$='/resolve/'] button[type=submit]").click()
    expect(page.locator("form[action$='/resolve/']")).to_contain_text(
        {"en": "Say what was done", "ko": "처리한 내용을 적어 주세요"}[language])
    screenshot(page, f"i15-resolve-refused-{screen}-{language}")
    issue.refresh_from_db()
    assert issue.status == "new"
    assert not OutboundEmail.objects.filter(kind="resolved").exists()


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_page_that_is_not_there_says_why_and_leads_back(signed_in: Page, live_server, screen, language):
    page = signed_in
    page.set_viewport_size(SCREENS[screen])
    speak(page, live_server, language)

    page.goto(f"{live_server.url}/dashboard/")

    expect(page.locator("#error-title")).to_be_visible()
    screenshot(page, f"i15-404-dashboard-{screen}-{language}")
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"]
    page.locator(".error-page a.btn").click()
    page.wait_for_url(f"{live_server.url}/")
