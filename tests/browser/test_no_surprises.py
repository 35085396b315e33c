"""No surprise actions (issue 15, item 2) and error pages (item 7), in a real browser, on a desk and on a 390 px
phone, in English and Korean."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from issues.models import Issue
from notifications.models import OutboundEmail
from tests.browser.conftest import SCREENS, screenshot, speak
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_bulk_bar_does_nothing_unchosen_and_keeps_the_ticks_after_a_refusal(
        signed_in: Page, live_server, people, screen, language):
    # With JavaScript (htmx swaps the results); the plain-HTML path is covered by the view tests.
    page = signed_in
    page.set_viewport_size(SCREENS[screen])
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
    screenshot(page, f"issue15-2-bulk-refused-{language}-{screen}")

    page.locator("#bulk-owner").select_option(label="Daniel Cho")
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator(f"tr[data-issue='{first.pk}']")).to_contain_text("Daniel Cho")
    owners = set(Issue.objects.values_list("owner__username", flat=True))
    assert owners == {"daniel"}
    assert not Issue.objects.exclude(acknowledged_at=None).exists()


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_owner_and_status_selects_say_what_is_and_assign_gives_nothing_away(
        signed_in: Page, live_server, people, screen, language):
    # "Resolve requires what was done" lives in the composer now ("Send and resolve"): its own browser tests.
    acme = people["acme"]
    issue = make_issue(customer=acme, at=ago(minutes=30), title="Labels print blank", reporter=acme.contacts.get())
    page = signed_in
    page.set_viewport_size(SCREENS[screen])
    speak(page, live_server, language)
    page.goto(f"{live_server.url}{issue.get_absolute_url()}")

    owner, status = page.locator("select[name='assign-owner']"), page.locator("select[name='status-status']")
    assert owner.evaluate("select => select.value") == ""
    expect(owner.locator("option:checked")).to_have_text({"en": "Unassigned", "ko": "담당자 없음"}[language])
    assert status.evaluate("select => select.value") == "new"
    expect(status.locator("option:checked")).to_have_text({"en": "New", "ko": "신규"}[language])
    screenshot(page, f"issue15-2-selects-{language}-{screen}")

    # "Assign" without looking: the browser asks for an owner, the issue stays unassigned, nobody is told.
    page.locator("form[action$='/assign/'] button[type=submit]").click()
    assert owner.evaluate("select => !select.validity.valid")
    issue.refresh_from_db()
    assert issue.owner is None
    assert not OutboundEmail.objects.filter(kind="assigned").exists()
    expect(page.locator("select[name='assign-owner'] option:checked")).to_have_text(
        {"en": "Unassigned", "ko": "담당자 없음"}[language])


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_page_that_is_not_there_says_why_and_leads_back(signed_in: Page, live_server, screen, language):
    page = signed_in
    page.set_viewport_size(SCREENS[screen])
    speak(page, live_server, language)

    page.goto(f"{live_server.url}/dashboard/")

    expect(page.locator("#error-title")).to_be_visible()
    screenshot(page, f"issue15-7-404-dashboard-{language}-{screen}")
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"]
    page.locator(".error-page a.btn").click()
    page.wait_for_url(f"{live_server.url}/")
