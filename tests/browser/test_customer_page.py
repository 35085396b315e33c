"""The customer's own page on a 390 px phone, in English and in Korean: the contact opens the link in our
email, reads where the issue stands, answers it and tells us the day they need it by."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, expect

from issues import services
from issues.models import EventKind, IssueEvent, Status
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.browser.conftest import SCREENS, screenshot, scrolls_sideways
from tests.factories import make_issue, wait_on_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE_LINK = re.compile(r"https?://[^/\s]+(/c/[^/\s]+/)")
WORDS = {
    "en": {"customer": "acme", "title": "Invoices export times out", "answer": "Send answer",
           "text": "Here is the export log from this morning.", "thanks": "Thank you: your answer is on the issue",
           "deadline_button": "Tell us", "noted": "Noted: you need this by", "status": "In progress",
           "wrote": "Grace Hopper wrote"},
    "ko": {"customer": "hanbit", "title": "계좌 이체 내역이 대시보드에 표시되지 않습니다", "answer": None,
           "text": "오늘 아침 로그를 첨부합니다.", "thanks": None, "deadline_button": None, "noted": None,
           "status": None, "wrote": "박서연"},
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_customer_on_a_phone_opens_the_email_link_reads_answers_and_sets_a_deadline(
        browser: Browser, live_server, people, language):
    cache.clear()
    words = WORDS[language]
    customer, manager = people[words["customer"]], people["manager"]
    issue = make_issue(customer=customer, at=timezone.now() - timedelta(days=1), owner=manager, title=words["title"],
                       description="Since Monday the export never finishes.")
    services.post_update(issue=issue, body="We found a stuck job and restarted it; watching it now.", public=True,
                         by=manager, now=timezone.now() - timedelta(hours=20))
    wait_on_customer(issue, by=manager, body="Could you send us the export log from this morning?")
    email = rendered(OutboundEmail.objects.filter(kind=EmailKind.PUBLIC_UPDATE, issue=issue).order_by("-pk").first())
    path = PAGE_LINK.search(email.body_text).group(1)

    context = browser.new_context(viewport=SCREENS["390"], timezone_id="Asia/Seoul", is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(5000)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)

    page.goto(f"{live_server.url}{path}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(words["title"])
    expect(page.locator(".next-update")).to_be_visible()
    expect(page.locator(".customer-timeline")).to_contain_text("Could you send us the export log")
    assert not scrolls_sideways(page)
    screenshot(page, f"customer-page-{language}-390-read")

    page.locator("textarea").fill(words["text"])
    page.locator("#answer button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}{path}")
    expect(page.locator(".customer-timeline")).to_contain_text(words["text"])
    expect(page.locator(".alert-success")).to_be_visible()
    if words["thanks"]:
        expect(page.locator(".alert-success")).to_contain_text(words["thanks"])
    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS
    screenshot(page, f"customer-page-{language}-390-answered")

    day = timezone.localdate() + timedelta(days=14)
    page.locator("input[type=date]").fill(day.isoformat())
    page.locator("#deadline button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}{path}")
    expect(page.locator(".deadline")).to_contain_text(str(day.year))
    if words["noted"]:
        expect(page.locator(".alert-success")).to_contain_text(words["noted"])
    assert not scrolls_sideways(page)
    screenshot(page, f"customer-page-{language}-390-deadline")

    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.DEADLINE_SET).count() == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.PAGE_COPY, issue=issue).count() == 2
    assert not refused, refused
    context.close()
