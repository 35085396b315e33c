"""On a 390 px phone, in English and in Korean, a customer opens a resolved issue from the link in our email and
rates it with the stars (no script needed), and says "not solved" on another, which reopens it with their words.
Screenshots of each step land in test-artifacts/ (customer-feedback-<language>-<step>.png)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from issues import feedback, services
from issues.models import Contact, Feedback, Status
from notifications.links import customer_page_path
from tests.browser.conftest import (
    ARTIFACTS,
    SCREENS,
    screenshot,
    scrolls_sideways,
    sign_in,
    speak,
)
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_link(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """The customer's phone (390 px, touch), in their language, with or without JavaScript; its pages may need
    nothing the Content Security Policy forbids."""
    contexts, refused = [], []

    def open_page(path: str, language: str, *, javascript: bool = True) -> Page:
        context = browser.new_context(viewport=SCREENS["390"], locale="ko-KR" if language == "ko" else "en-US",
                                      timezone_id="Asia/Seoul", is_mobile=True, has_touch=True,
                                      java_script_enabled=javascript)
        context.on("console", lambda message: refused.append(message.text)
                   if "Content Security Policy" in message.text else None)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(5000)
        page.goto(f"{live_server.url}{path}")
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not refused, refused


def resolved(customer, contact: Contact, manager, title: str):
    issue = make_issue(customer=customer, at=timezone.now(), owner=manager, reporter=contact, title=title)
    services.acknowledge(issue=issue, by=manager)
    services.resolve(issue=issue, by=manager, body="We rebuilt the export so that it runs in the background.")
    return issue


def link(issue, contact: Contact) -> str:
    return customer_page_path(issue.pk, contact.pk, address=contact.email, generation=contact.page_links_generation)


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_customer_rates_one_resolved_issue_and_says_another_is_not_solved(people, open_link, language, javascript):
    cache.clear()
    customer = people["acme"] if language == "en" else people["hanbit"]
    contact = Contact.objects.get(customer=customer)
    manager = people["manager"]
    rated = resolved(customer, contact, manager, "Invoices export times out when the month has many orders"
                     if language == "en" else "월말 주문이 많으면 송장 내보내기가 시간 초과됩니다")
    reopened = resolved(customer, contact, manager, "Login loops" if language == "en" else "로그인 반복 오류")
    step = f"customer-feedback-{language}{'' if javascript else '-nojs'}"

    page = open_link(link(rated, contact), language, javascript=javascript)
    expect(page.locator("html")).to_have_attribute("lang", language)
    box = page.locator("#rating")
    expect(box.locator(".stars label")).to_have_count(5)
    assert not scrolls_sideways(page)
    if javascript:
        screenshot(page, f"{step}-1-resolved")
    box.locator(".stars label").nth(1).click()  # the page lists 5 first: the second label from the start is 4
    box.locator("textarea").fill("Quick and clear, thank you." if language == "en" else "빠르고 명확했습니다. 감사합니다.")
    box.locator("button[type=submit]").click()

    expect(page.locator(".alert-success")).to_contain_text(contact.email)
    expect(page.locator("#rating .your-rating")).to_contain_text("4")
    expect(page.locator("#rating .stars input[value='4']")).to_be_checked()
    assert not scrolls_sideways(page)
    if javascript:
        screenshot(page, f"{step}-2-rated")
    given = Feedback.objects.get(issue=rated)
    assert (given.score, given.contact) == (4, contact)

    page.goto(page.url.replace(link(rated, contact), link(reopened, contact)))
    page.locator("details.not-solved summary").click()
    words = page.locator("details.not-solved textarea")
    expect(words).to_be_visible()
    words.fill("It still loops after the second login." if language == "en" else "두 번째 로그인 후에도 계속 반복됩니다.")
    if javascript:
        screenshot(page, f"{step}-3-not-solved")
    page.locator("details.not-solved button[type=submit]").click()

    expect(page.locator(".alert-success")).to_contain_text(contact.email)
    expect(page.locator(".customer-timeline")).to_contain_text(
        "It still loops after the second login." if language == "en" else "두 번째 로그인 후에도 계속 반복됩니다.")
    expect(page.locator("#after-resolution")).to_have_count(0)
    assert not scrolls_sideways(page)
    if javascript:
        screenshot(page, f"{step}-4-reopened")
    reopened.refresh_from_db()
    assert reopened.status == Status.NEW and Feedback.objects.get(issue=reopened).solved is False


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_lead_reads_the_ratings_on_the_dashboard(people, browser: Browser, live_server, language, screen):
    cache.clear()
    manager, colleague = people["manager"], people["colleague"]
    grace, seoyeon = (Contact.objects.get(customer=people[name]) for name in ("acme", "hanbit"))
    for n, (customer, contact, owner, score, solved) in enumerate([
            (people["acme"], grace, manager, 2, False), (people["acme"], grace, colleague, 5, True),
            (people["hanbit"], seoyeon, manager, 4, True)]):
        issue = resolved(customer, contact, owner, f"Issue {n}")
        if solved:
            feedback.solved(issue=issue, contact=contact)
        feedback.rate(issue=issue, contact=contact, score=score, comment="답변이 늦었습니다" if n == 2 else "")
    context = browser.new_context(viewport=SCREENS[screen], locale="ko-KR" if language == "ko" else "en-US",
                                  timezone_id="Asia/Seoul", is_mobile=screen == "390", has_touch=screen == "390")
    page = sign_in(context.new_page(), live_server, "lead")
    speak(page, live_server, language)

    page.goto(f"{live_server.url}/dashboard/")
    card = page.locator("section:has(#ratings-title)")
    card.scroll_into_view_if_needed()
    expect(card.locator("tbody tr")).to_have_count(4)  # two owners, two customers
    expect(card.locator("tfoot").first).to_contain_text("3.7")
    assert not scrolls_sideways(page)
    card.screenshot(path=ARTIFACTS / f"customer-feedback-dashboard-{language}-{screen}.png")
    context.close()
