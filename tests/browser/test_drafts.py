"""No action loses typed text: a half-written update survives an Assign (the whole issue fragment is
swapped), a severity change and a reload, on a desk and on a 390 px phone; sending it forgets the draft."""

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
    page = signed_in
    page.set_viewport_size(SCREENS[screen])
    page.goto(f"{live_server.url}{issue.get_absolute_url()}")

    body = page.get_by_label("Update to the customer")
    body.fill(HALF_WRITTEN)
    page.locator("select[name='assign-owner']").select_option(label="Jisoo Kim")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".alert")).to_contain_text("Owner changed.")  # the fragment was swapped ...
    expect(page.get_by_label("Update to the customer")).to_have_value(HALF_WRITTEN)  # ... and the text is back

    page.locator("select[name='severity-severity']").select_option("orange")
    page.get_by_role("button", name="Change severity").click()
    expect(page.locator(".alert")).to_contain_text("Severity changed")
    expect(page.get_by_label("Update to the customer")).to_have_value(HALF_WRITTEN)

    page.reload()
    expect(page.get_by_label("Update to the customer")).to_have_value(HALF_WRITTEN)
    screenshot(page, f"i15-draft-kept-{screen}")

    page.get_by_label("Update to the customer").fill(HALF_WRITTEN + " will deploy it tonight.")
    page.get_by_role("button", name="Send update").click()
    expect(page.locator(".timeline")).to_contain_text("will deploy it tonight.")
    page.reload()
    expect(page.get_by_label("Update to the customer")).to_have_value("")  # sent: the draft is forgotten
