"""Urgency and the conversation, in a real browser (issue 15, items 4 and 6): the fire on top, badges coloured by
the share of their window left with the exact time and zone on hover, the zone named in the customer's email,
and a timeline that reads from what the customer asked, on a desktop and on a 390 px phone, in English and
Korean."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from issues import services
from notifications.delivery import deliver_due
from tests.browser.conftest import SCREENS, screenshot, speak
from tests.factories import ContactFactory, make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ASKED = "Since this morning every checkout fails with a payment timeout."
WROTE = "We are rolling back last night's release."
ZONE_ON_HOVER = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} KST$")


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def a_morning(people) -> int:
    """Old green issues days overdue, a red one 43 minutes past its acknowledgement, a red one with 58 minutes
    left, a calm blue one, and an orange one already talked about (Daniel took it, acknowledged it, Hana wrote to
    the customer's two contacts, the emails went out)."""
    acme, manager, colleague = people["acme"], people["manager"], people["colleague"]
    ContactFactory(customer=acme, name="Alan Turing", email="alan@acme.example.com", follows_all_issues=True)
    for n in range(6):
        make_issue(customer=acme, at=ago(days=3 + n), severity="green", title=f"Old green {n}")
    make_issue(customer=acme, at=ago(hours=1, minutes=43), severity="red", title="Checkout is down")
    make_issue(customer=acme, at=ago(minutes=2), severity="red", title="Refunds are stuck")
    make_issue(customer=acme, at=ago(minutes=5), severity="blue", title="Report totals differ")
    talked = make_issue(customer=acme, at=ago(hours=3), severity="orange", title="Payments time out",
                        description=ASKED)
    services.assign(issue=talked, owner=colleague, by=colleague, now=ago(hours=2, minutes=55))
    services.acknowledge(issue=talked, by=colleague, now=ago(hours=2, minutes=50))
    services.post_update(issue=talked, body=WROTE, public=True, by=manager, now=ago(minutes=30))
    services.post_update(issue=talked, body="Rollback done; watching the error rate.", public=False, by=colleague,
                         now=ago(minutes=10))
    assert deliver_due() >= 2
    return talked.pk


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_fire_ranks_first_and_its_timeline_reads_from_the_question(
        signed_in: Page, people, live_server, settings, language, screen):
    settings.DEBUG = True  # the development mailbox shows what the customer received
    talked = a_morning(people)
    page = signed_in
    page.set_viewport_size(SCREENS[screen])
    speak(page, live_server, language)
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", language)

    # Item 4: the breached red issue first, then the red one within its hour; colours by the window left.
    rows = page.locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("Checkout is down")
    expect(rows.nth(1)).to_contain_text("Refunds are stuck")
    expect(rows.nth(0).locator(".clock")).to_have_class(re.compile(r"band-breached"))
    expect(rows.nth(1).locator(".clock")).to_have_class(re.compile(r"band-red"))
    expect(page.locator("tbody tr", has_text="Report totals differ").locator(".clock")).to_have_class(
        re.compile(r"band-calm"))
    expect(page.locator("tbody tr", has_text="Old green 0").locator(".clock")).to_have_class(
        re.compile(r"band-breached"))
    expect(rows.nth(1).locator(".clock")).to_have_attribute("title", re.compile(r"\d{2}:\d{2} KST"))
    screenshot(page, f"issue15-4-urgency-inbox-{language}-{screen}")

    # Item 6: the question on top, the emails folded into the update that sent them, clock lines behind a toggle.
    page.goto(f"{live_server.url}/issues/{talked}/")
    timeline = page.locator(".timeline")
    expect(timeline.locator("li").first).to_contain_text(ASKED)
    expect(timeline).to_contain_text({"en": "Daniel Cho took it", "ko": "Daniel Cho님이 맡았습니다"}[language])
    update = timeline.locator(".entry-public", has_text=WROTE)
    expect(update).to_contain_text({"en": "sent to 2 contacts", "ko": "연락처 2명에게 보냄"}[language])
    routine = timeline.locator(".entry-routine details").first
    expect(routine).not_to_have_attribute("open", "")
    expect(routine.locator("li").first).not_to_be_visible()
    routine.locator("summary").click()
    expect(routine.locator("li").first).to_be_visible()
    expect(timeline.locator("time").first).to_have_attribute("title", ZONE_ON_HOVER)
    screenshot(page, f"issue15-6-timeline-{language}-{screen}")

    # Item 4: the customer's email names the zone of the time it promises (each contact in their own language).
    page.goto(f"{live_server.url}/dev/mailbox/")
    email = page.locator("article.dev-email", has_text="grace@acme.example.com").filter(has_text=WROTE).first
    email.locator("summary").click()
    expect(email.locator("pre")).to_contain_text(re.compile(r"\d{1,2}:\d{2} \(KST\)"))
    screenshot(page, f"issue15-4-customer-email-{language}-{screen}")
