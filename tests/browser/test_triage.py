"""An account manager's morning, in a real browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from issues.models import Issue
from notifications.models import OutboundEmail
from tests.browser.conftest import screenshot
from tests.factories import make_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def see_the_outbox_row(page: Page, issue: Issue) -> None:
    """The update is on its way to the customer: the timeline says so, and the outbox holds the row."""
    contact = issue.reporter
    # The email is folded into the update that sent it, its address one click away.
    expect(page.locator(".timeline")).to_contain_text("status update: queued for 1 contact")
    expect(page.locator(".timeline")).to_contain_text(contact.email)
    row = OutboundEmail.objects.get(issue=issue, kind="public_update", recipient=contact.email)
    assert row.status == OutboundEmail.Status.PENDING


def test_manager_filters_to_red_acknowledges_and_promises_the_next_update(signed_in: Page, people):
    acme = people["acme"]
    make_issue(customer=acme, at=ago(minutes=20), severity="blue", title="Report totals differ")
    fire = make_issue(customer=acme, at=ago(minutes=50), severity="red", title="Checkout is down",
                      reporter=acme.contacts.get())
    page = signed_in
    page.reload()

    page.get_by_label("Severity").first.select_option("red")
    expect(page).to_have_url(f"{page.url.split('?')[0]}?severity=red")
    rows = page.locator(".inbox tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_role("link", name="Checkout is down").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"ACME-{fire.pk} Checkout is down")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Acknowledged: in a few seconds the customer is told who owns the issue.")).to_be_visible()

    promise = timezone.localtime(timezone.now() + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Message").fill("We found the faulty payment node and are replacing it.")
    page.get_by_label("Promise the next update by").fill(promise)
    page.get_by_role("button", name="Send to 1 contact").click()

    entry = page.locator(".timeline .entry-public").first
    expect(entry).to_contain_text("We found the faulty payment node and are replacing it.")
    expect(entry).to_contain_text("Next update promised by")
    expect(page.locator(".clocks")).not_to_contain_text("no promise")
    see_the_outbox_row(page, fire)


def test_manager_bulk_assigns_two_issues(signed_in: Page, people):
    acme = people["acme"]
    first = make_issue(customer=acme, at=ago(minutes=30), title="Invoices export times out")
    second = make_issue(customer=acme, at=ago(minutes=20), title="Labels print blank")
    make_issue(customer=acme, at=ago(minutes=10), title="Left alone")
    page = signed_in
    page.reload()

    page.get_by_label(f"Select ACME-{first.pk}").check()
    page.get_by_label(f"Select ACME-{second.pk}").check()
    page.get_by_label("With the selected issues").select_option("assign")
    page.locator("#bulk-owner").select_option(label="Daniel Cho")
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_text("2 issues changed.")).to_be_visible()
    expect(page.locator(f"tr[data-issue='{first.pk}']")).to_contain_text("Daniel Cho")
    expect(page.locator(f"tr[data-issue='{second.pk}']")).to_contain_text("Daniel Cho")
    assert set(Issue.objects.filter(owner=people["colleague"]).values_list("pk", flat=True)) == {first.pk, second.pk}


def test_a_missing_title_is_reported_and_what_was_typed_stays(signed_in: Page, people, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/issues/new/")

    page.get_by_label("Customer").select_option(label="Hanbit Bank")
    contact = page.get_by_label("Contact")
    expect(contact.locator("option")).to_have_count(2)  # "No contact" and Hanbit's one contact
    contact.select_option(label="박서연")
    page.get_by_label("Description").fill("이체 화면이 멈춥니다.")
    page.get_by_label("Severity").select_option("orange")
    page.get_by_role("button", name="Open issue").click()

    expect(page.get_by_text("Give the issue a title.")).to_be_visible()
    expect(page.get_by_label("Description")).to_have_value("이체 화면이 멈춥니다.")
    expect(page.get_by_label("Customer")).to_have_value(str(people["hanbit"].pk))
    expect(page.get_by_label("Contact")).to_have_value(str(people["hanbit"].contacts.get().pk))
    expect(page.get_by_label("Severity")).to_have_value("orange")
    assert not Issue.objects.exists()


def test_keyboard_moves_opens_and_explains_itself(signed_in: Page, people, live_server):
    acme = people["acme"]
    urgent = make_issue(customer=acme, at=ago(hours=3), severity="red", title="Most urgent")
    calm = make_issue(customer=acme, at=ago(minutes=5), severity="green", title="Calm one")
    page = signed_in
    page.reload()

    page.evaluate("document.getElementById('shortcuts').addEventListener('shown.bs.modal', "
                  "() => document.body.dataset.shortcutsShown = 'yes')")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_contain_text("Next / previous issue in the inbox")
    # Bootstrap ignores Escape while the modal fades in (a DOM mark: the CSP forbids evaluated predicates).
    expect(page.locator("body[data-shortcuts-shown=yes]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    page.keyboard.press("/")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.press("Escape")
    page.get_by_label(f"Select ACME-{calm.pk}").check()  # a checked box is not what `a` acknowledges
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.get_by_text("1 issue changed.")).to_be_visible()
    assert Issue.objects.get(pk=urgent.pk).acknowledged_at is not None
    assert Issue.objects.get(pk=calm.pk).acknowledged_at is None
    # Acknowledged, the red issue is no longer overdue and sorts below the calm one: `k` goes up to it.
    expect(page.locator(".inbox tbody tr").first).to_contain_text("Calm one")
    page.keyboard.press("k")
    page.keyboard.press("o")
    expect(page).to_have_url(f"{live_server.url}/issues/{calm.pk}/")
    page.wait_for_load_state()  # the shortcuts listen once the page's script has run
    page.keyboard.press("a")
    expect(page.get_by_text("Acknowledged: in a few seconds the customer is told who owns the issue.")).to_be_visible()
    page.keyboard.press("u")
    expect(page.get_by_label("Message")).to_be_focused()


@pytest.mark.parametrize("language", ["en", "ko"])
def test_screenshots_of_the_inbox_and_the_issue_page(signed_in: Page, people, live_server, language):
    acme, hanbit, manager = people["acme"], people["hanbit"], people["manager"]
    make_issue(customer=acme, at=ago(hours=3), severity="red", title="Checkout is down", owner=manager)
    make_issue(customer=hanbit, at=ago(hours=5), severity="orange", title="이체 화면이 멈춥니다")
    make_issue(customer=acme, at=ago(minutes=50), severity="red", title="Tracking page shows the wrong ETA")
    issue = make_issue(customer=hanbit, at=ago(hours=2), severity="blue", title="보고서 합계가 CSV와 다릅니다",
                       reporter=hanbit.contacts.get(), owner=manager)
    make_issue(customer=acme, at=ago(minutes=5), severity="green", title="Typo on the invoice footer")
    page = signed_in
    if language == "ko":
        page.get_by_label("Language").select_option("ko")  # submits and comes back to the inbox
    else:
        page.reload()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator(".inbox tbody tr")).to_have_count(5)
    screenshot(page, f"inbox-{language}")

    page.goto(f"{live_server.url}{issue.get_absolute_url()}?compose=update")
    expect(page.locator("#id_compose-body")).to_be_focused()
    screenshot(page, f"issue-{language}")
