"""No action loses typed text: a half-written message in the composer, with its choices (who reads it, the
promised date, what happens after sending), survives an Assign (the whole issue fragment is swapped), a
severity change and a reload, on a desk and on a 390 px phone; sending it forgets the draft."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {"desktop": {"width": 1360, "height": 900}, "phone": {"width": 390, "height": 844}}
HALF_WRITTEN = "We found the slow query and are testing a fix; next we"


@pytest.mark.parametrize("screen", SCREENS)
def test_a_half_written_update_survives_an_assign_a_severity_change_and_a_reload(
        signed_in: Page, live_server, people, screen):
    acme = people["acme"]
    issue = make_issue(customer=acme, at=timezone.now() - timedelta(minutes=30), title="Invoices export times out",
                       reporter=acme.contacts.get(), owner=people["manager"])
    promise = timezone.localtime(timezone.now() + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
    page = signed_in
    page.set_viewport_size(SCREENS[screen])
    page.goto(f"{live_server.url}{issue.get_absolute_url()}")

    body = page.get_by_label("Message")
    body.fill(HALF_WRITTEN)
    page.get_by_label("Promise the next update by").fill(promise)
    page.get_by_label("After sending").select_option("in_progress")
    page.locator("select[name='assign-owner']").select_option(label="Jisoo Kim")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".alert")).to_contain_text("Owner changed.")  # the fragment was swapped ...
    expect(page.get_by_label("Message")).to_have_value(HALF_WRITTEN)  # ... and the text is back
    expect(page.get_by_label("Promise the next update by")).to_have_value(promise)
    expect(page.get_by_label("After sending")).to_have_value("in_progress")
    expect(page.locator("#compose-send")).to_have_text("Send and mark in progress")

    page.locator("select[name='severity-severity']").select_option("orange")
    page.get_by_role("button", name="Change severity").click()
    expect(page.locator(".alert")).to_contain_text("Severity changed")
    expect(page.get_by_label("Message")).to_have_value(HALF_WRITTEN)

    page.reload()
    expect(page.get_by_label("Message")).to_have_value(HALF_WRITTEN)
    expect(page.get_by_label("After sending")).to_have_value("in_progress")
    screenshot(page, f"i15-draft-kept-{screen}")

    page.get_by_label("Message").fill(HALF_WRITTEN + " will deploy it tonight.")
    page.get_by_role("button", name="Send and mark in progress").click()
    expect(page.locator(".timeline")).to_contain_text("will deploy it tonight.")
    page.reload()
    expect(page.get_by_label("Message")).to_have_value("")  # sent: the draft is forgotten
    expect(page.get_by_label("Promise the next update by")).to_have_value("")
    expect(page.locator("#compose-send")).to_have_text("Send to 1 contact")


@pytest.mark.parametrize("screen", SCREENS)
def test_a_half_written_internal_note_stays_a_note_through_a_swap_and_a_reload(
        signed_in: Page, live_server, people, screen):
    acme = people["acme"]
    issue = make_issue(customer=acme, at=timezone.now() - timedelta(minutes=30), title="Labels print blank",
                       reporter=acme.contacts.get(), owner=people["manager"])
    page = signed_in
    page.set_viewport_size(SCREENS[screen])
    page.goto(f"{live_server.url}{issue.get_absolute_url()}")

    page.keyboard.press("n")  # a note, from the keyboard
    expect(page.get_by_label("Message")).to_be_focused()
    page.keyboard.type("Their DBA is away until Monday")
    expect(page.locator("#compose-send")).to_have_text("Add internal note")
    page.locator("select[name='severity-severity']").select_option("orange")
    page.get_by_role("button", name="Change severity").click()
    expect(page.locator(".alert")).to_contain_text("Severity changed")
    page.reload()

    expect(page.get_by_label("Message")).to_have_value("Their DBA is away until Monday")
    expect(page.locator("#compose-internal")).to_be_checked()
    expect(page.locator("#compose-send")).to_have_text("Add internal note")
