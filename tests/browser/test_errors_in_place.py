"""A message sent without leaving the page (htmx) that fails is never lost in silence: when Inloop answers with
an error (a 503 while the database is away, a 403 for a stale security token, a 500) or does not answer at all,
the page says at its top, in the reader's language, that nothing was saved and why; what was typed stays in the
composer, and its draft survives a reload. Once a message goes through, the alert leaves. On a desk and on a
390 px phone, in English and Korean."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from issues.models import EventKind, Issue
from tests.browser.conftest import ARTIFACTS, SCREENS, screenshot, speak
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPED = "The export is fixed on our side; please run it again and tell us the totals"
BACK_IN_A_MOMENT = "<!doctype html><title>Back in a moment</title><h1>Back in a moment</h1>"


def say(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def write_on_an_issue(page: Page, live_server, people, screen: str = "desktop", language: str = "en") -> Issue:
    acme = people["acme"]
    issue = make_issue(customer=acme, at=timezone.now() - timedelta(minutes=40), reporter=acme.contacts.get(),
                       owner=people["manager"], title="Invoice totals differ from the CSV")
    page.set_viewport_size(SCREENS[screen])
    speak(page, live_server, language)
    page.goto(f"{live_server.url}{issue.get_absolute_url()}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#id_compose-body").fill(TYPED)
    return issue


def sent_updates(issue: Issue) -> int:
    return issue.events.filter(kind=EventKind.PUBLIC_UPDATE).count()


def compose_url(issue: Issue) -> str:
    return f"**/issues/{issue.pk}/compose/"


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_message_sent_while_inloop_is_unavailable_says_nothing_was_saved_and_keeps_the_text(
        signed_in: Page, live_server, people, screen, language):
    page = signed_in
    issue = write_on_an_issue(page, live_server, people, screen, language)
    page.route(compose_url(issue), lambda route: route.fulfill(status=503, body=BACK_IN_A_MOMENT,
                                                                content_type="text/html"))

    page.locator("#compose-send").click()

    alert = page.locator("#request-failures [role=alert]")
    expect(alert).to_be_visible()
    expect(alert).to_be_in_viewport()  # seen where the button was pressed, however far down that was
    expect(alert).to_contain_text(say(language, "Nothing was saved."))
    expect(alert).to_contain_text(say(language, "Inloop is unavailable for a moment. Try again in a few seconds."))
    expect(alert).to_contain_text(say(language, "What you typed is still here."))
    expect(alert).not_to_contain_text(say(language, "Something went wrong on our side."))  # one reason, the right one
    expect(page.locator("#id_compose-body")).to_have_value(TYPED)
    assert sent_updates(issue) == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"errors-in-place-503-{screen}-{language}-screen.png")  # what the eye sees
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"errors-in-place-503-{screen}-{language}")

    page.unroute(compose_url(issue))  # the database is back
    page.locator("#compose-send").click()
    expect(page.locator(".timeline")).to_contain_text(TYPED)
    expect(page.locator("#request-failures [role=alert]")).to_have_count(0)  # old news once it went through
    assert sent_updates(issue) == 1


def test_a_lost_connection_says_nothing_was_saved_and_the_draft_survives_a_reload(
        signed_in: Page, live_server, people):
    page = signed_in
    issue = write_on_an_issue(page, live_server, people)
    page.route(compose_url(issue), lambda route: route.abort("internetdisconnected"))

    page.locator("#compose-send").click()

    alert = page.locator("#request-failures [role=alert]")
    expect(alert).to_contain_text("Nothing was saved.")
    expect(alert).to_contain_text("Inloop could not be reached: check your connection, then try again.")
    expect(page.locator("#id_compose-body")).to_have_value(TYPED)
    page.unroute(compose_url(issue))
    page.reload()
    expect(page.locator("#id_compose-body")).to_have_value(TYPED)  # the draft was not forgotten
    expect(page.locator("#request-failures [role=alert]")).to_have_count(0)
    assert sent_updates(issue) == 0


@pytest.mark.parametrize(("status", "reason"), [
    (403, "Your session or this page's security token has expired. Reload the page and try again."),
    (500, "Something went wrong on our side. Try again in a moment; if it happens again, tell an administrator."),
])
def test_a_refused_message_gives_the_plain_reason_and_can_be_dismissed(
        signed_in: Page, live_server, people, status, reason):
    page = signed_in
    issue = write_on_an_issue(page, live_server, people)
    page.route(compose_url(issue), lambda route: route.fulfill(status=status, body="<h1>Refused</h1>",
                                                                content_type="text/html"))

    page.locator("#compose-send").click()

    alert = page.locator("#request-failures [role=alert]")
    expect(alert).to_contain_text("Nothing was saved.")
    expect(alert).to_contain_text(reason)
    expect(alert).not_to_contain_text("Refused")  # the error page's body is not swapped in
    expect(page.locator("#id_compose-body")).to_have_value(TYPED)
    alert.get_by_role("button", name="Close").click()
    expect(alert).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_error_pages_keep_the_pages_margins_on_a_phone(signed_in: Page, live_server, language):
    page = signed_in
    page.set_viewport_size(SCREENS["390"])
    speak(page, live_server, language)
    width = SCREENS["390"]["width"]

    for name, path, card in [("not-found", "/no-such-page/", ".error-page"),
                             ("dead-link", "/c/nonsense/", "section.card")]:
        assert page.goto(f"{live_server.url}{path}").status == 404
        box = page.locator(card).bounding_box()
        heading = page.locator("h1").bounding_box()
        screenshot(page, f"errors-in-place-{name}-{language}-390")
        assert box["x"] >= 8 and box["x"] + box["width"] <= width - 8, name  # a gutter, like every other page
        assert heading["x"] - box["x"] >= 12, name  # and the words keep their distance from the card's edge


def test_a_list_that_cannot_be_brought_up_to_date_says_so_without_talk_of_saving(signed_in: Page, live_server):
    page = signed_in
    page.route(lambda url: "severity=red" in url, lambda route: route.fulfill(status=500, body="<h1>Oops</h1>",
                                                                               content_type="text/html"))

    page.locator("#id_severity").select_option("red")  # the inbox's filters fetch the rows without a reload

    alert = page.locator("#request-failures [role=alert]")
    expect(alert).to_contain_text("This could not be loaded.")
    expect(alert).to_contain_text("Something went wrong on our side.")
    expect(alert).not_to_contain_text("Nothing was saved.")
    expect(alert).not_to_contain_text("What you typed is still here.")
