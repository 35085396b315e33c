"""The one composer and undo (issue 15, items 1 and 2), in a real browser, on a desk and on a 390 px phone, in
English and Korean: typed text survives every swap and a reload, the one button says what it will do, send and
resolve asks what was done, and a quick action that emails the customer can be undone before anything leaves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from playwright.sync_api import Page, expect

from issues.models import Issue, Undo
from notifications import delivery
from notifications.models import OutboundEmail
from tests.browser.conftest import SCREENS, screenshot, speak
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HALF_WRITTEN = "We rebuilt the export index; the totals now match"


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def say(language: str, text: str, **values) -> str:
    """What the page says in `language` (English until the Korean catalogue has the words)."""
    with translation.override(language):
        return gettext(text) % values if values else gettext(text)


def send_to(language: str, n: int) -> str:
    with translation.override(language):
        return ngettext("Send to %(n)d contact", "Send to %(n)d contacts", n) % {"n": n}


def open_issue(page: Page, live_server, people, screen: str, language: str, **fields) -> Issue:
    acme = people["acme"]
    issue = make_issue(customer=acme, at=ago(minutes=40), reporter=acme.contacts.get(), owner=people["manager"],
                       **{"title": "Invoice totals differ from the CSV", **fields})
    page.set_viewport_size(SCREENS[screen])
    speak(page, live_server, language)
    page.goto(f"{live_server.url}{issue.get_absolute_url()}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    return issue


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_typed_text_survives_an_assign_a_severity_change_and_a_reload_and_the_button_follows_the_choice(
        signed_in: Page, live_server, people, screen, language):
    page = signed_in
    issue = open_issue(page, live_server, people, screen, language)
    body, send = page.locator("#id_compose-body"), page.locator("#compose-send")
    then = page.locator("#id_compose-then")

    expect(send).to_have_text(send_to(language, 1))  # the server's label for the default
    body.fill(HALF_WRITTEN)
    then.select_option("resolve")
    expect(send).to_have_text(say(language, "Send and resolve"))
    then.select_option("in_progress")
    expect(send).to_have_text(say(language, "Send and mark in progress"))
    page.locator("label[for=compose-internal]").click()
    expect(send).to_have_text(say(language, "Add internal note"))
    expect(page.locator("#id_compose-promised_update_at")).to_be_hidden()  # the customer's parts step aside
    page.locator("label[for=compose-public]").click()
    expect(send).to_have_text(say(language, "Send and mark in progress"))

    page.locator("select[name='assign-owner']").select_option(label="Daniel Cho")
    page.locator("form[action$='/assign/'] button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text(say(language, "Owner changed."))
    expect(body).to_have_value(HALF_WRITTEN)
    page.locator("select[name='severity-severity']").select_option("red")
    page.locator("form[action$='/severity/'] button[type=submit]").click()
    expect(page.locator("header .sev-red")).to_be_visible()
    expect(body).to_have_value(HALF_WRITTEN)
    page.reload()
    expect(body).to_have_value(HALF_WRITTEN)
    expect(then).to_have_value("in_progress")
    expect(send).to_have_text(say(language, "Send and mark in progress"))
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"]
    # On a phone as on a desk, the composer comes before the timeline.
    assert page.locator("#compose").bounding_box()["y"] < page.locator(".timeline").bounding_box()["y"]
    screenshot(page, f"issue15-1-composer-draft-{language}-{screen}")

    send.click()
    expect(page.locator(".timeline .entry-public").first).to_contain_text(HALF_WRITTEN)
    issue.refresh_from_db()
    assert issue.status == "in_progress" and issue.owner.username == "daniel"
    page.reload()
    expect(body).to_have_value("")


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_send_and_resolve_asks_what_was_done_and_sends_one_email_that_can_be_undone(
        signed_in: Page, live_server, people, screen, language, settings):
    settings.UNDO_SECONDS = 60  # time enough to look; the countdown has its own test
    page = signed_in
    issue = open_issue(page, live_server, people, screen, language)

    page.locator("#resolve").click()  # the Triage card's shortcut: the composer, on "send and resolve"
    expect(page.locator("#id_compose-then")).to_have_value("resolve")
    expect(page.locator("#id_compose-body")).to_be_focused()
    page.locator("#compose-send").click()
    expect(page.locator("#compose")).to_contain_text(say(
        language, "Say what was done: the customer reads it in the email that tells them the issue is resolved."))
    assert Issue.objects.get(pk=issue.pk).is_open and not OutboundEmail.objects.filter(kind="resolved").exists()

    page.locator("#id_compose-body").fill("We rebuilt the export index; the totals match again.")
    page.locator("#compose-send").click()
    message = page.locator(".alert.undoable")
    expect(message).to_contain_text(say(language, "Resolved: in a few seconds the customer is told what was done."))
    expect(message.get_by_role("button")).to_contain_text(say(language, "Undo"))
    [email] = OutboundEmail.objects.filter(issue=issue, contact__isnull=False)
    assert email.kind == "resolved" and email.next_attempt_at > timezone.now()  # one email, held
    expect(page.locator("#id_compose-body")).not_to_have_class(re.compile("is-invalid"))  # a fresh composer
    screenshot(page, f"issue15-1-send-and-resolve-{language}-{screen}")

    message.get_by_role("button").click()
    expect(page.locator(".alert-success")).to_contain_text(say(language, "Undone: nothing reached the customer."))
    expect(page.locator("#id_compose-body")).to_have_value("We rebuilt the export index; the totals match again.")
    expect(page.locator("#id_compose-then")).to_have_value("resolve")
    assert Issue.objects.get(pk=issue.pk).is_open and not OutboundEmail.objects.filter(issue=issue).exists()


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_acknowledge_then_undo_and_the_email_never_reaches_the_customer(
        signed_in: Page, live_server, people, screen, language, settings, smtp_server):
    settings.UNDO_SECONDS = 60
    page = signed_in
    issue = open_issue(page, live_server, people, screen, language)

    page.wait_for_load_state()
    page.keyboard.press("a")
    message = page.locator(".alert.undoable")
    expect(message).to_contain_text(say(language, "Acknowledged: in a few seconds the customer is told who owns "
                                                  "the issue."))
    assert delivery.deliver_due() == 0  # held: a worker finds nothing due
    screenshot(page, f"issue15-2-acknowledge-undo-{language}-{screen}")
    message.get_by_role("button").click()

    expect(page.locator(".alert-success")).to_contain_text(say(language, "Undone: nothing reached the customer."))
    expect(page.locator("#acknowledge")).to_be_visible()
    assert delivery.deliver_due(now=timezone.now() + timedelta(minutes=5)) == 0
    assert not smtp_server.mailbox.messages and not OutboundEmail.objects.filter(issue=issue).exists()
    issue.refresh_from_db()
    assert issue.acknowledged_at is None and issue.status == "new"
    screenshot(page, f"issue15-2-undone-{language}-{screen}")


def test_bulk_acknowledge_offers_one_undo_whose_button_leaves_when_the_time_is_up_and_then_the_emails_go(
        signed_in: Page, live_server, people, settings, smtp_server):
    settings.UNDO_SECONDS = 4
    acme, hanbit = people["acme"], people["hanbit"]
    make_issue(customer=acme, at=ago(minutes=30), title="Invoices export times out", reporter=acme.contacts.get())
    make_issue(customer=hanbit, at=ago(minutes=20), title="보고서 합계가 다릅니다", reporter=hanbit.contacts.get())
    page = signed_in
    page.reload()

    page.locator("#select-all").check()
    page.locator("#bulk-action").select_option("acknowledge")
    page.locator("#bulk-form button[type=submit]").click()
    message = page.locator(".alert.undoable")
    expect(message).to_contain_text("2 issues changed.")
    expect(message.locator(".undo-seconds")).not_to_have_text("4", timeout=3000)  # it counts down
    assert Undo.objects.get().issue_ids == sorted(Issue.objects.values_list("pk", flat=True))
    expect(message.locator("form.undo")).to_have_count(0, timeout=6000)  # and leaves when the time is up

    assert delivery.deliver_due(now=timezone.now() + timedelta(seconds=1)) == 2
    assert sorted(message["To"] for message in smtp_server.mailbox.messages) == [
        "Grace Hopper <grace@acme.example.com>", "박서연 <seoyeon@hanbit.example.kr>"]
