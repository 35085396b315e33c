"""Customers answer by email: the answer finds its issue, once, and does what a person's answer should."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from inbound.models import InboundAttachment, InboundMessage, Outcome
from inbound.pipeline import receive
from issues import services
from issues.models import EventKind, Issue, IssueEvent, Status
from notifications import tokens
from notifications.delivery import deliver_due
from notifications.models import OutboundEmail
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    make_issue,
    wait_on_customer,
)
from tests.inbound.mail import answer_to, bounce_of, email_from

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inbound_address(settings):
    """Answers go to a plus address of this one (support+<token>@…)."""
    settings.INBOUND_ADDRESS = "support@inloop.localhost"


@pytest.fixture
def waiting_issue(customer, contact, manager):
    """Hana asked Grace for a screenshot and is waiting on her."""
    issue = make_issue(customer=customer, at=timezone.now() - timedelta(hours=3), reporter=contact, owner=manager,
                       title="Tracking page is blank")
    services.post_update(issue=issue, body="Could you send us a screenshot?", public=True, by=manager)
    wait_on_customer(issue, by=manager)
    deliver_due()
    issue.refresh_from_db()
    return issue


def our_update_to(contact) -> OutboundEmail:
    return OutboundEmail.objects.filter(contact=contact, kind="public_update").latest("pk")


def events(issue, kind) -> list[IssueEvent]:
    return list(IssueEvent.objects.filter(issue=issue, kind=kind))


def test_a_customers_answer_lands_on_its_issue_ends_the_wait_and_starts_a_response_clock(waiting_issue, contact,
                                                                                          manager):
    message = receive(answer_to(our_update_to(contact), "Here is the screenshot you asked for."))

    assert message.outcome == Outcome.CUSTOMER_MESSAGE and message.issue == waiting_issue
    [wrote] = events(waiting_issue, EventKind.CUSTOMER_MESSAGE)
    assert wrote.body == "Here is the screenshot you asked for."  # the quoted history stays in the original
    assert wrote.public and wrote.actor is None and wrote.data["name"] == "Grace Hopper"
    waiting_issue.refresh_from_db()
    assert waiting_issue.status == Status.IN_PROGRESS
    assert waiting_issue.ack_started_at == message.received_at and waiting_issue.acknowledged_at is None
    assert waiting_issue.ack_due_at is not None  # a person must answer within the acknowledge window
    [told] = OutboundEmail.objects.filter(kind="customer_message")
    assert told.recipient == manager.email and told.issue == waiting_issue


def test_a_public_update_answers_the_customer_and_stops_the_response_clock(waiting_issue, contact, manager):
    receive(answer_to(our_update_to(contact), "Screenshot attached."))

    services.post_update(issue=Issue.objects.get(pk=waiting_issue.pk), body="Thanks, we see it now.", public=True,
                         by=manager)

    waiting_issue.refresh_from_db()
    assert waiting_issue.acknowledged_at is not None and waiting_issue.ack_due_at is None
    assert waiting_issue.update_due_at is not None


def test_the_same_email_delivered_twice_is_stored_and_acted_on_once(waiting_issue, contact):
    raw = answer_to(our_update_to(contact), "Sent twice by a nervous mail server.")

    first, again = receive(raw), receive(raw)

    assert first.pk == again.pk
    assert InboundMessage.objects.count() == 1
    assert len(events(waiting_issue, EventKind.CUSTOMER_MESSAGE)) == 1
    assert OutboundEmail.objects.filter(kind="customer_message").count() == 1


@pytest.mark.parametrize("way", ["plus address only", "body marker only"])
def test_the_token_is_found_when_the_provider_rewrote_the_message_id(waiting_issue, contact, way):
    row = our_update_to(contact)
    assert row.headers["Reply-To"].startswith("support+i") and "[ref:i" in row.body_text
    raw = answer_to(row, "Found me anyway.", keep_message_id=False, subject="Re: the screenshot",
                    keep_reply_to=way == "plus address only", quote=way == "body marker only")

    message = receive(raw)

    assert message.outcome == Outcome.CUSTOMER_MESSAGE and message.issue == waiting_issue


def test_a_tampered_token_matches_nothing(waiting_issue, contact):
    token = tokens.make(waiting_issue.pk, contact.pk)
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")

    message = receive(email_from("mallory@evil.example", subject="About your issue",
                                 body=f"Ref {forged}", to=f"support+{forged}@inloop.localhost"))

    assert message.outcome == Outcome.UNMATCHED and message.issue is None
    assert events(waiting_issue, EventKind.CUSTOMER_MESSAGE) == []


def test_a_subject_tag_alone_never_threads_a_stranger(waiting_issue):
    message = receive(email_from("stranger@elsewhere.example", subject=f"Re: [{waiting_issue.reference}] hello"))

    assert message.outcome == Outcome.UNMATCHED and message.issue is None


def test_a_subject_tag_from_a_contact_of_that_customer_threads(waiting_issue, contact):
    message = receive(email_from(contact.email.upper(), subject=f"Re: [{waiting_issue.reference}] more",
                                 body="One more detail."))

    assert message.outcome == Outcome.CUSTOMER_MESSAGE and message.issue == waiting_issue


def test_a_known_contact_writing_afresh_opens_an_issue_with_a_receipt(customer, contact, manager):
    customer.team.default_severity = "orange"
    customer.team.save()

    message = receive(email_from(contact.email, name="Grace Hopper", subject="Invoices are missing",
                                 body="Since Monday no invoice arrives.\n\n-- \nGrace"))

    issue = message.issue
    assert message.outcome == Outcome.NEW_ISSUE
    assert (issue.title, issue.description, issue.severity) == ("Invoices are missing",
                                                                "Since Monday no invoice arrives.", "orange")
    assert issue.owner == manager and issue.reporter == contact
    assert issue.created_at == issue.ack_started_at == message.received_at
    [receipt] = OutboundEmail.objects.filter(kind="receipt")
    assert receipt.recipient == contact.email and receipt.issue == issue


def test_an_unknown_sender_waits_in_the_unmatched_list_and_is_never_answered(customer):
    message = receive(email_from("someone@unknown.example", subject="Can you help?"))

    assert message.outcome == Outcome.UNMATCHED
    assert OutboundEmail.objects.count() == 0 and Issue.objects.count() == 0


def test_someone_who_is_not_a_contact_answering_is_shown_but_changes_nothing(waiting_issue, contact):
    row = our_update_to(contact)

    message = receive(answer_to(row, "Forwarded to me; I'm Grace's colleague.", sender="bob@acme.example.com"))

    assert message.outcome == Outcome.NOT_A_CONTACT and message.issue == waiting_issue
    [shown] = events(waiting_issue, EventKind.INBOUND_NOT_A_CONTACT)
    assert shown.data["sender"] == "bob@acme.example.com" and not shown.public
    waiting_issue.refresh_from_db()
    assert waiting_issue.status == Status.WAITING_ON_CUSTOMER
    assert not OutboundEmail.objects.filter(kind="customer_message").exists()


def test_a_contact_of_another_teams_customer_with_this_token_is_not_attached(waiting_issue, contact):
    other = ContactFactory(customer=CustomerFactory(team=TeamFactory(name="Other")), email="eve@other.example")

    message = receive(answer_to(our_update_to(contact), "Not my issue.", sender=other.email))

    assert message.outcome == Outcome.UNMATCHED and message.issue is None
    assert events(waiting_issue, EventKind.INBOUND_NOT_A_CONTACT) == []


def test_an_answer_to_a_recently_resolved_issue_reopens_it(waiting_issue, contact, manager):
    services.resolve(issue=waiting_issue, by=manager, body="Fixed.")
    deliver_due()

    message = receive(answer_to(OutboundEmail.objects.filter(kind="resolved").latest("pk"), "Still broken."))

    waiting_issue.refresh_from_db()
    assert message.issue == waiting_issue and waiting_issue.status == Status.NEW
    assert len(events(waiting_issue, EventKind.CUSTOMER_MESSAGE)) == 1


def test_an_answer_long_after_resolution_opens_a_follow_up(waiting_issue, contact, manager, settings):
    settings.REOPEN_WITHIN_DAYS = 14
    services.resolve(issue=waiting_issue, by=manager, body="Fixed.", now=timezone.now() - timedelta(days=20))
    deliver_due()

    message = receive(answer_to(OutboundEmail.objects.filter(kind="resolved").latest("pk"), "It is back."))

    follow_up = message.issue
    assert follow_up != waiting_issue and follow_up.follows == waiting_issue
    waiting_issue.refresh_from_db()
    assert waiting_issue.status == Status.RESOLVED
    assert events(waiting_issue, EventKind.FOLLOWED_UP)[0].new_value == follow_up.reference


def test_an_out_of_office_is_a_line_on_the_issue_and_nothing_more(waiting_issue, contact):
    message = receive(answer_to(our_update_to(contact), "I am away until Monday.",
                                headers={"Auto-Submitted": "auto-replied"}))

    assert message.outcome == Outcome.AUTOMATIC and message.issue == waiting_issue
    assert len(events(waiting_issue, EventKind.INBOUND_AUTOMATIC)) == 1
    waiting_issue.refresh_from_db()
    assert waiting_issue.status == Status.WAITING_ON_CUSTOMER
    assert not OutboundEmail.objects.filter(kind__in=["customer_message", "receipt"]).exists()


def test_an_automatic_mail_from_a_contact_never_opens_an_issue(contact):
    message = receive(email_from(contact.email, subject="Out of office", headers={"Precedence": "bulk"}))

    assert message.outcome == Outcome.AUTOMATIC and Issue.objects.count() == 0


@override_settings(INBOUND_NEW_ISSUES_PER_HOUR=3)
def test_a_looping_sender_stops_opening_issues_and_staff_see_why(contact):
    outcomes = [receive(email_from(contact.email, subject=f"Ticket {n}")).outcome for n in range(5)]

    assert outcomes == [Outcome.NEW_ISSUE] * 3 + [Outcome.UNMATCHED] * 2
    assert "looping" in InboundMessage.objects.filter(outcome=Outcome.UNMATCHED).first().reason
    assert Issue.objects.count() == 3


def test_our_own_email_coming_back_is_ignored(waiting_issue, contact):
    row = our_update_to(contact)
    raw = email_from("support@inloop.localhost", subject=row.subject, message_id=row.message_id)

    assert receive(raw).outcome == Outcome.OURS


def test_attachments_are_kept_and_listed_on_the_timeline(waiting_issue, contact, settings):
    settings.INBOUND_ATTACHMENT_MAX_BYTES = 1000
    raw = answer_to(our_update_to(contact), "Two files.")
    raw = email_from(contact.email, subject=f"Re: [{waiting_issue.reference}]", body="Two files.",
                     attachments=[("screen.png", "image/png", b"\x89PNG" + b"0" * 100),
                                  ("dump.bin", "application/octet-stream", b"x" * 5000)])

    message = receive(raw)

    kept = {item.filename: bool(item.data) for item in InboundAttachment.objects.filter(message=message)}
    assert kept == {"screen.png": True, "dump.bin": False}
    [wrote] = events(waiting_issue, EventKind.CUSTOMER_MESSAGE)
    assert [item["name"] for item in wrote.data["attachments"]] == ["screen.png", "dump.bin"]


def test_a_message_over_the_size_limit_is_refused_with_its_headers_kept(contact, settings):
    settings.INBOUND_MAX_BYTES = 10_000
    message = receive(email_from(contact.email, subject="Huge", body="x" * 50_000))

    assert message.outcome == Outcome.REFUSED and "too large" in message.reason
    assert b"Subject: Huge" in bytes(message.raw) and len(bytes(message.raw)) < 10_000
    assert Issue.objects.count() == 0


def test_a_message_without_message_id_is_stored_once_by_its_bytes(contact):
    raw = email_from(contact.email, subject="No id", message_id="")

    assert receive(raw).pk == receive(raw).pk
    assert InboundMessage.objects.get().key.startswith("sha256:")


def test_a_bounce_marks_the_contact_undeliverable_and_tells_the_owner_and_lead_once(waiting_issue, contact, manager,
                                                                                     lead):
    row = our_update_to(contact)
    services.post_update(issue=Issue.objects.get(pk=waiting_issue.pk), body="Queued before the bounce.",
                         public=True, by=manager)
    queued = OutboundEmail.objects.filter(contact=contact, status="pending")
    assert queued.exists()

    message = receive(bounce_of(row))
    receive(bounce_of(row, status="5.1.1").replace(b"Message-ID: <", b"Message-ID: <again."))  # a second bounce

    contact.refresh_from_db()
    assert message.outcome == Outcome.BOUNCE and contact.undeliverable_at is not None
    assert "5.1.1" in contact.undeliverable_reason
    assert not OutboundEmail.objects.filter(contact=contact, status="pending").exists()  # cancelled
    assert len(events(waiting_issue, EventKind.CONTACT_UNREACHABLE)) == 1
    told = sorted(OutboundEmail.objects.filter(kind="unreachable").values_list("recipient", flat=True))
    assert told == sorted([manager.email, lead.email])
    assert "5.1.1" in OutboundEmail.objects.filter(kind="unreachable").first().context["reason"]
    # Nobody else at the customer: updates reach nobody now.
    services.post_update(issue=Issue.objects.get(pk=waiting_issue.pk), body="Anyone?", public=True, by=manager)
    assert not OutboundEmail.objects.filter(contact=contact, status="pending").exists()


def test_a_delay_notice_changes_nothing(waiting_issue, contact):
    message = receive(bounce_of(our_update_to(contact), status="4.4.1", action="delayed"))

    contact.refresh_from_db()
    assert message.outcome == Outcome.BOUNCE and contact.undeliverable_at is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(raw=b"\x00")
@example(raw=b"From: a\x00@b.example\nSubject: x\x00y\nMessage-ID: <n\x00ul@x>\n\nbody\x00")
@given(raw=st.one_of(st.binary(max_size=2000),
                     st.text(max_size=500).map(lambda text: f"From: x@y.example\nSubject: {text}\n\n{text}".encode(
                         "utf-8", errors="surrogatepass"))))
def test_whatever_arrives_is_stored_and_never_crashes(contact, raw):
    message = receive(raw)

    assert message.pk is not None and message.outcome != Outcome.RECEIVED


def test_a_contact_our_relay_refuses_for_good_becomes_undeliverable_too(waiting_issue, contact, manager, settings):
    """Not every bounce comes back by email: a 5xx at RCPT TO from our own relay is one as well."""
    from notifications.tasks import deliver_outbox
    from tests.mailserver import MailServer

    server = MailServer()
    server.mailbox.refuse.add(contact.email)
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        services.post_update(issue=Issue.objects.get(pk=waiting_issue.pk), body="News.", public=True, by=manager)
        deliver_outbox()
    finally:
        server.stop()

    contact.refresh_from_db()
    assert contact.undeliverable_at is not None and "550" in contact.undeliverable_reason
    assert len(events(waiting_issue, EventKind.CONTACT_UNREACHABLE)) == 1
    assert not OutboundEmail.objects.filter(bounce_pending=True).exists()
