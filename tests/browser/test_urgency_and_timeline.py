"""Urgency and the conversation, in a real browser: the fire on top with a red badge, and a timeline that
reads from what the customer asked, on a desktop and on a 390 px phone, in English and Korean."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from issues import services
from notifications.delivery import deliver_due
from tests.browser.conftest import screenshot
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ASKED = "Since this morning every checkout fails with a payment timeout."


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def a_morning(people) -> int:
    """Old green issues days overdue, a red one 43 minutes past its acknowledgement, and an orange one
    already talked about (assigned, acknowledged, written to the customer, the emails sent)."""
    acme, manager, colleague = people["acme"], people["manager"], people["colleague"]
    for n in range(6):
        make_issue(customer=acme, at=ago(days=3 + n), severity="green", title=f"Old green {n}")
    make_issue(customer=acme, at=ago(hours=1, minutes=43), severity="red", title="Checkout is down")
    talked = make_issue(customer=acme, at=ago(hours=3), severity="orange", title="Payments time out",
                        description=ASKED)
    services.assign(issue=talked, owner=colleague, by=colleague, now=ago(hours=2, minutes=55))
    services.acknowledge(issue=talked, by=colleague, now=ago(hours=2, minutes=50))
    services.post_update(issue=talked, body="We are rolling back last night's release.", public=True, by=manager,
                         now=ago(minutes=30))
    services.post_update(issue=talked, body="Rollback done; watching the error rate.", public=False, by=colleague,
                         now=ago(minutes=10))
    assert deliver_due() >= 2
    return talked.pk


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_fire_ranks_first_and_its_timeline_reads_from_the_question(signed_in: Page, people, language, phone):
    talked = a_morning(people)
    page = signed_in
    if language == "ko":
        page.get_by_label("Language").select_option("ko")
        expect(page.locator("html")).to_have_attribute("lang", "ko")
    if phone:
        page.set_viewport_size(PHONE)
    page.reload()

    first = page.locator("tbody tr").first
    expect(first).to_contain_text("Checkout is down")
    expect(first.locator(".clock")).to_have_class(re.compile(r"band-breached"))
    green = page.locator("tbody tr", has_text="Old green 0").locator(".clock")
    expect(green).to_have_class(re.compile(r"band-breached"))
    name = f"i15-urgency-inbox-{language}-{'390' if phone else 'desktop'}"
    screenshot(page, name)

    page.goto(f"{page.url.split('?')[0].rstrip('/')}/issues/{talked}/")
    timeline = page.locator(".timeline")
    expect(timeline.locator("li").first).to_contain_text(ASKED)
    expect(timeline).to_contain_text("Daniel Cho")
    routine = timeline.locator(".entry-routine details").first
    expect(routine).not_to_have_attribute("open", "")
    expect(routine.locator("li").first).not_to_be_visible()
    routine.locator("summary").click()
    expect(routine.locator("li").first).to_be_visible()
    hover = timeline.locator("time").first
    expect(hover).to_have_attribute("title", re.compile(r"KST$"))
    screenshot(page, f"i15-timeline-{language}-{'390' if phone else 'desktop'}")
