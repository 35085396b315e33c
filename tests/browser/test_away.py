"""Hana goes on holiday: she sets herself away with Daniel as her backup on her preferences page, on a desktop
and on a phone, in English and in Korean; Daniel finds what he covers with the inbox's owner filter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from issues import away
from issues.models import Away
from tests.browser.conftest import screenshot, sign_in
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_hana_sets_herself_away_with_a_backup(signed_in: Page, people, live_server, language, width):
    page = signed_in
    if language == "ko":
        page.get_by_label("Language").select_option("ko")  # submits and comes back to the inbox
        expect(page.locator("html")).to_have_attribute("lang", "ko")
    if width == "phone":
        page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/preferences/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    first = timezone.localdate() + timedelta(days=7)

    page.locator("#id_away-starts_on").fill(first.isoformat())
    page.locator("#id_away-ends_on").fill((first + timedelta(days=2)).isoformat())
    page.locator("#id_away-backup").select_option(str(people["colleague"].pk))
    page.locator("#away button[type=submit]").last.click()

    expect(page.locator(".away-periods li")).to_have_count(1)
    expect(page.locator(".away-periods")).to_contain_text(f"{first.isoformat()} – {(first + timedelta(days=2)).isoformat()}")
    expect(page.locator(".away-periods")).to_contain_text("Daniel Cho")
    period = Away.objects.get()
    assert (period.person, period.backup) == (people["manager"], people["colleague"])
    screenshot(page, f"preferences-away-{width}-{language}")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_daniel_finds_the_issues_he_covers_in_the_inbox(page: Page, people, live_server, language):
    manager, colleague, acme = people["manager"], people["colleague"], people["acme"]
    colleague.set_password("correct horse battery")
    colleague.save()
    make_issue(customer=acme, at=timezone.now() - timedelta(hours=3), severity="red", owner=manager,
               title="Checkout is down")
    make_issue(customer=acme, at=timezone.now() - timedelta(hours=1), severity="blue", owner=colleague,
               title="Daniel's own issue")
    away.set_away(person=manager, starts_at=timezone.now() - timedelta(days=1),
                  ends_at=timezone.now() + timedelta(days=3), backup=colleague, by=manager)

    sign_in(page, live_server, "daniel")
    if language == "ko":
        page.get_by_label("Language").select_option("ko")
        expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.goto(f"{live_server.url}/?owner=covering")

    expect(page.locator(".inbox tbody tr")).to_have_count(1)
    expect(page.locator(".inbox tbody")).to_contain_text("Checkout is down")
    screenshot(page, f"inbox-covering-{language}")

    page.locator(".inbox tbody a", has_text="Checkout is down").first.click()
    expect(page.locator(".owner-away")).to_contain_text("Daniel Cho")
    screenshot(page, f"issue-owner-away-{language}")
