"""The loop closes, in a real browser: Hana asks Grace a question, Grace answers by email (from the
development mailbox), and the answer is on the issue; a stranger's email waits until Hana places it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import get_template
from django.utils import timezone
from playwright.sync_api import Page, expect

from inbound.models import Outcome
from inbound.pipeline import receive
from issues.models import (
    Contact,
    Customer,
    EventKind,
    Issue,
    IssueEvent,
    Profile,
    Status,
)
from notifications.compose import rendered
from notifications.delivery import deliver_due
from notifications.models import OutboundEmail
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.factories import make_issue, wait_on_customer
from tests.inbound.mail import answer_to, bounce_of, email_from

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAM_ADDRESS = "enterprise@inloop.example.com"
QUESTION = "Which invoice numbers are missing? A list or a screenshot would help."
ANSWER = "INV-1001 and INV-1002, both from last Monday."
WIDTHS = (1360, 390)
CUSTOMER_GREEN = "rgb(25, 135, 84)"


@pytest.fixture
def dev_mailbox_on(settings) -> None:
    """`make run` turns DEBUG on; the development mailbox is offered only then."""
    settings.DEBUG = True


@pytest.fixture
def team_address(people) -> str:
    """Strangers' email addressed to the team's own address waits in the team's unmatched list."""
    team = people["acme"].team
    team.email = TEAM_ADDRESS
    team.save()
    return TEAM_ADDRESS


def screenshots(page: Page, name: str) -> None:
    """The same page at a desktop width and a phone's, both full length."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def hana_opens_an_issue_for_grace(page: Page, live_server) -> Issue:
    page.goto(f"{live_server.url}/issues/new/")
    page.get_by_label("Customer").select_option(label="Acme Logistics")
    expect(page.get_by_label("Contact").locator("option")).to_have_count(2)  # "No contact" and Grace
    page.get_by_label("Contact").select_option(label="Grace Hopper")
    page.get_by_label("Title").fill("Invoices are missing")
    page.get_by_label("Description").fill("Since Monday no invoice reaches Acme's accounting.")
    page.get_by_role("button", name="Open issue").click()
    issue = Issue.objects.get(title="Invoices are missing")
    expect(page).to_have_url(f"{live_server.url}{issue.get_absolute_url()}")
    return issue


def hana_asks_and_waits(page: Page) -> None:
    page.get_by_label("Message").fill(QUESTION)
    page.get_by_label("After sending").select_option("wait")
    page.get_by_role("button", name="Send and wait for their answer").click()
    question = page.locator(".timeline .entry-public").filter(has_text=QUESTION)  # under the pinned description
    expect(question).to_have_count(1)
    expect(question).to_contain_text("Sent and waiting for their answer.")
    expect(page.locator("header").get_by_text("Waiting on customer", exact=True)).to_be_visible()
    expect(page.locator(".clocks")).to_contain_text("paused: waiting on customer")


def test_hana_asks_grace_a_question_and_graces_answer_from_the_dev_mailbox_lands_on_the_issue(
        signed_in: Page, people, live_server, dev_mailbox_on):
    page = signed_in
    issue = hana_opens_an_issue_for_grace(page, live_server)
    hana_asks_and_waits(page)
    screenshot(page, "two-way-1-waiting-on-grace")
    assert deliver_due() > 0  # the outbox renders and sends the update to Grace

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dev mailbox").click()
    email = page.locator(".dev-email").filter(has_text=QUESTION)
    expect(email).to_have_count(1)
    expect(email).to_contain_text("grace@acme.example.com")
    email.locator("summary").click()  # "Read it" opens the email
    expect(email.locator("pre")).to_contain_text(QUESTION)
    email.get_by_label("Answer").fill(ANSWER)
    screenshot(page, "two-way-2-dev-mailbox-answering")
    email.get_by_role("button", name="Answer as Grace Hopper").click()

    expect(page).to_have_url(f"{live_server.url}{issue.get_absolute_url()}")
    card = page.locator(".timeline .entry").filter(has_text="From the customer · by email")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Grace Hopper wrote")
    expect(card.locator(".body")).to_have_text(ANSWER)  # our quoted question stays in the original
    expect(card.get_by_role("link", name="Original message")).to_be_visible()
    expect(card).to_have_css("border-left-color", CUSTOMER_GREEN)  # their voice, not our blue
    expect(page.locator("header").get_by_text("In progress", exact=True)).to_be_visible()
    acknowledge = page.locator(".clocks .clock-line").first
    expect(acknowledge).to_contain_text("on time")
    expect(acknowledge).to_contain_text("due")
    expect(page.locator("header")).to_contain_text("ack due in")
    screenshot(page, "two-way-3-graces-answer-on-the-issue")

    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS and issue.ack_due_at is not None and issue.acknowledged_at is None
    told = OutboundEmail.objects.filter(issue=issue, kind="customer_message")
    assert list(told.values_list("recipient", flat=True)) == [people["manager"].email]


def test_a_strangers_email_waits_in_unmatched_email_until_hana_attaches_it_by_its_reference(
        signed_in: Page, people, live_server, team_address):
    acme = people["acme"]
    issue = make_issue(customer=acme, at=timezone.now() - timedelta(hours=2), title="Invoices are missing",
                       reporter=acme.contacts.get(), owner=people["manager"])
    message = receive(email_from("bob@acme.example.com", name="Bob Builder", to=team_address,
                                 subject="Invoices still missing",
                                 body="I'm Grace's colleague: INV-1003 is missing too."))
    assert message.outcome == Outcome.UNMATCHED and not Issue.objects.exclude(pk=issue.pk).exists()
    page = signed_in

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Unmatched email").click()
    card = page.locator("article").filter(has_text="Invoices still missing")
    expect(card).to_contain_text("Bob Builder")
    expect(card).to_contain_text("INV-1003 is missing too.")
    card.get_by_label("Attach to issue").fill(issue.reference.lower())  # as typed in a hurry
    card.get_by_role("button", name="Attach").click()

    expect(page).to_have_url(f"{live_server.url}{issue.get_absolute_url()}")
    expect(page.get_by_text(f"The email is on {issue.reference}.")).to_be_visible()
    entry = page.locator(".timeline .entry").filter(has_text="Bob Builder wrote")
    expect(entry).to_contain_text("From the customer · by email")
    expect(entry).to_contain_text("INV-1003 is missing too.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Unmatched email").click()
    expect(page.get_by_text("Nothing waiting: every email found its issue.")).to_be_visible()
    message.refresh_from_db()
    assert message.outcome == Outcome.CUSTOMER_MESSAGE and message.issue == issue
    assert Contact.objects.filter(customer=acme, email="bob@acme.example.com").exists()


# --- screenshots of every new page and timeline entry, in both languages and at both widths -------------


def waiting_issue(customer: Customer, manager, title: str, question: str) -> Issue:
    issue = make_issue(customer=customer, at=timezone.now() - timedelta(hours=3), title=title,
                       reporter=customer.contacts.get(), owner=manager)
    wait_on_customer(issue, by=manager, body=question)
    deliver_due()
    return Issue.objects.get(pk=issue.pk)


def our_update(issue: Issue) -> OutboundEmail:
    return OutboundEmail.objects.filter(issue=issue, kind="public_update").latest("pk")


def everything_that_can_come_back(issue: Issue) -> None:
    """A new issue by email, the customer's answer, a colleague who is not a contact, an out-of-office, and
    last a bounce (it cancels what is still queued for the contact)."""
    update = our_update(issue)
    contact = issue.reporter
    receive(email_from(contact.email, name=contact.name, subject="Exports are slow since the upgrade",
                       body="A second problem: exports take minutes now."))
    assert deliver_due() > 0  # the receipt of that new issue reaches the contact before the bounce
    receive(answer_to(update, "Here is the screenshot you asked for; the totals differ by 12 rows."))
    receive(answer_to(update, "Forwarding: I handle the invoices at our side now.",
                      sender=f"bob@{contact.email.split('@')[1]}"))
    receive(answer_to(update, "I am out of the office until Monday.", headers={"Auto-Submitted": "auto-replied"}))
    assert receive(bounce_of(update)).outcome == Outcome.BOUNCE


def two_strangers_write(to: str) -> None:
    receive(email_from("accounts@partner.example", name="", to=to, subject="",
                       body="Please find the signed purchase order attached.",
                       attachments=[("purchase-order-2026-0042-signed-final-version.pdf", "application/pdf",
                                     b"%PDF-1.4 " + b"0" * 4000)]))
    receive(email_from("jiwoo@newco.example.kr", name="최지우", to=to, subject="데모 요청드립니다",
                       body="안녕하세요, 다음 주에 데모를 요청드리고 싶습니다. 가능한 일정을 알려주세요."))


def choose_language(page: Page, language: str) -> None:
    if language == "ko":
        page.locator("#language-switch").select_option("ko")  # submits and comes back to the same page
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_screenshots_of_the_mailbox_the_unmatched_list_and_the_issue_page(signed_in: Page, people, live_server,
                                                                         dev_mailbox_on, team_address, language):
    customer = people["hanbit"] if language == "ko" else people["acme"]
    issue = waiting_issue(customer, people["manager"], "보고서 합계가 CSV와 다릅니다" if language == "ko"
                          else "Report totals differ from the CSV", QUESTION)
    everything_that_can_come_back(issue)
    two_strangers_write(team_address)
    page = signed_in
    choose_language(page, language)

    page.goto(f"{live_server.url}/dev/mailbox/")
    expect(page.locator(".dev-email")).to_have_count(2)  # our question and the receipt of the new issue
    screenshots(page, f"two-way-dev-mailbox-{language}")

    page.goto(f"{live_server.url}/inbound/")
    cards = page.locator("main article")
    expect(cards).to_have_count(3)  # the two strangers, and the colleague who answered but is not a contact
    attach = cards.first.locator("form[action$='/attach/']")
    attach.get_by_role("textbox").fill("NOPE-1")
    attach.get_by_role("button").click()
    expect(page.locator("main article").first.locator(".invalid-feedback")).to_be_visible()  # beside the field
    screenshots(page, f"two-way-unmatched-{language}")

    page.goto(f"{live_server.url}{issue.get_absolute_url()}")
    new_kinds = [EventKind.CUSTOMER_MESSAGE, EventKind.INBOUND_NOT_A_CONTACT, EventKind.INBOUND_AUTOMATIC,
                 EventKind.CONTACT_UNREACHABLE]
    entries = IssueEvent.objects.filter(issue=issue, kind__in=new_kinds)
    assert sorted(entries.values_list("kind", flat=True)) == sorted(new_kinds)
    for entry in entries:
        expect(page.locator(f"#event-{entry.pk}")).to_be_visible()
    expect(page.locator(".timeline .entry")).to_have_count(3)  # the answer, the colleague's email, our question
    screenshots(page, f"two-way-issue-{language}")

    # The colleague's email is one click from where Hana accepts or discards it.
    stranger = entries.get(kind=EventKind.INBOUND_NOT_A_CONTACT)
    page.locator(f"#event-{stranger.pk} a[href*='/inbound/#']").click()
    expect(page).to_have_url(f"{live_server.url}/inbound/#inbound-{stranger.data['inbound']}")
    expect(page.locator(f"#inbound-{stranger.data['inbound']}")).to_be_in_viewport()


# --- the three new emails as their readers' mail clients show them ---------------------------------------

NEW_EMAILS = ("receipt", "customer_message", "unreachable")


def speaks(user, language: str) -> None:
    Profile.objects.update_or_create(user=user, defaults={"language": language})


@pytest.mark.parametrize("language", ["en", "ko"])
def test_screenshots_of_the_receipt_the_owners_notice_and_the_bounce_notice(page: Page, people, language):
    manager = people["manager"]
    speaks(manager, language)
    speaks(people["acme"].team.lead, language)
    customer = people["hanbit"] if language == "ko" else people["acme"]
    issue = waiting_issue(customer, manager, "보고서 합계가 CSV와 다릅니다" if language == "ko"
                          else "Report totals differ from the CSV", QUESTION)
    everything_that_can_come_back(issue)

    rows = {kind: OutboundEmail.objects.filter(kind=kind).order_by("pk").first() for kind in NEW_EMAILS}
    assert all(rows.values()), rows
    emails = {kind: rendered(row) for kind, row in rows.items()}
    (ARTIFACTS / "emails").mkdir(parents=True, exist_ok=True)
    for kind, row in rows.items():
        email = emails[kind]
        assert row.language == language and email.subject and email.body_text
        name = f"emails/two-way-{kind}-{language}"
        (ARTIFACTS / f"{name}.html").write_text(email.body_html)
        (ARTIFACTS / f"{name}.txt").write_text(f"Subject: {email.subject}\n\n{email.body_text}")
        page.set_content(email.body_html)
        expect(page.locator("body")).to_contain_text("안녕하세요" if language == "ko" else "Hello")
        screenshots(page, name)
    # A customer who wrote in can tell our receipt from the later acknowledgement by its subject.
    receipt = rows["receipt"]
    acknowledged = get_template(f"notifications/email/{language}/acknowledged.subject.txt").render(
        {"reference": receipt.issue.reference, "issue": receipt.issue})
    assert emails["receipt"].subject != acknowledged.strip()
