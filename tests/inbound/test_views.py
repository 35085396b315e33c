"""Staff place what the pipeline could not; a newcomer answers as the customer in the development mailbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbound.models import InboundMessage, Outcome
from inbound.pipeline import receive
from issues.models import Contact, EventKind, IssueEvent, Status
from notifications.delivery import deliver_due
from notifications.models import OutboundEmail
from tests.factories import make_issue, wait_on_customer
from tests.inbound.mail import email_from

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def issue(customer, contact, manager):
    return make_issue(customer=customer, at=timezone.now() - timedelta(hours=1), reporter=contact, owner=manager,
                      title="Invoices are missing")


def a_stranger_writes(team=None) -> InboundMessage:
    message = receive(email_from("bob@acme.example.com", name="Bob Builder", subject="About the invoices",
                                 body="I'm Grace's colleague: the invoices are still missing."))
    if team is not None:
        InboundMessage.objects.filter(pk=message.pk).update(team=team)
    return InboundMessage.objects.get(pk=message.pk)


def test_the_unmatched_list_shows_the_teams_waiting_emails_and_nothing_of_others(hana, team, outsider, client):
    mine = a_stranger_writes(team)
    theirs = receive(email_from("eve@else.example", subject="Other team's secret"))

    html = hana.get(reverse("inbound_unmatched")).content.decode()

    assert "About the invoices" in html and "Bob Builder" in html
    assert mine.reason == "unknown sender" and "The sender is not a contact of any customer." in html
    assert "Other team&#x27;s secret" not in html and theirs.team is None


def test_attaching_an_email_makes_it_the_customers_answer_and_its_sender_a_contact(hana, team, issue):
    message = a_stranger_writes(team)

    response = hana.post(reverse("inbound_attach", args=[message.pk]), {f"m{message.pk}-reference": issue.reference})

    assert response.status_code == 302 and response["Location"] == issue.get_absolute_url()
    bob = Contact.objects.get(email="bob@acme.example.com")
    assert bob.customer == issue.customer and bob.name == "Bob Builder"
    [wrote] = IssueEvent.objects.filter(issue=issue, kind=EventKind.CUSTOMER_MESSAGE)
    assert "still missing" in wrote.body
    message.refresh_from_db()
    assert message.outcome == Outcome.CUSTOMER_MESSAGE and message.handled_at is not None


def test_a_wrong_reference_is_said_next_to_the_field_and_nothing_moves(hana, team, issue):
    message = a_stranger_writes(team)

    response = hana.post(reverse("inbound_attach", args=[message.pk]), {f"m{message.pk}-reference": "NOPE-1"})

    assert response.status_code == 400
    assert "No issue of your teams has that reference" in response.content.decode()
    assert "NOPE-1" in response.content.decode()  # what was typed stays
    message.refresh_from_db()
    assert message.handled_at is None


def test_opening_an_email_as_a_new_issue_of_a_customer(hana, team, customer):
    message = a_stranger_writes(team)

    hana.post(reverse("inbound_open", args=[message.pk]), {f"m{message.pk}-customer": customer.pk})

    message.refresh_from_db()
    assert message.outcome == Outcome.NEW_ISSUE and message.issue.customer == customer
    assert message.issue.reporter.email == "bob@acme.example.com"
    assert OutboundEmail.objects.filter(kind="receipt", recipient="bob@acme.example.com").exists()


def test_two_colleagues_discarding_at_once_discard_once(hana, team, client, colleague):
    message = a_stranger_writes(team)
    other = type(hana)()
    other.force_login(colleague)

    first = hana.post(reverse("inbound_discard", args=[message.pk]), {"discard": "yes"})
    second = other.post(reverse("inbound_discard", args=[message.pk]), {"discard": "yes"})

    assert first.status_code == 302 and second.status_code == 404  # no longer waiting
    message.refresh_from_db()
    assert message.outcome == Outcome.DISCARDED


def test_the_original_is_plain_text_and_attachments_always_download(hana, team):
    message = receive(email_from("bob@acme.example.com", subject="<script>alert(1)</script>",
                                 attachments=[("report.html", "text/html", b"<script>alert(1)</script>")]))
    InboundMessage.objects.filter(pk=message.pk).update(team=team)

    original = hana.get(reverse("inbound_original", args=[message.pk]))
    download = hana.get(reverse("inbound_attachment", args=[message.attachments.get().pk]))

    assert original["Content-Type"].startswith("text/plain")
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")


def test_the_issue_page_shows_the_customers_words_with_the_original_one_click_away(hana, issue, contact, manager):
    wait_on_customer(issue, by=manager)
    deliver_due()
    receive(email_from(contact.email, subject=f"Re: [{issue.reference}] invoices", body="Found them, thanks!"))

    html = hana.get(issue.get_absolute_url()).content.decode()

    assert "From the customer · by email" in html and "Found them, thanks!" in html
    assert "Grace Hopper wrote" in html and reverse("inbound_original", args=[InboundMessage.objects.get().pk]) in html


def test_the_development_mailbox_is_only_there_with_debug(hana, settings):
    settings.DEBUG = False
    assert hana.get(reverse("dev_mailbox")).status_code == 404
    settings.DEBUG = True
    assert hana.get(reverse("dev_mailbox")).status_code == 200


def test_answering_as_the_customer_in_the_development_mailbox_closes_the_loop(hana, issue, contact, manager,
                                                                             settings):
    settings.DEBUG = True
    wait_on_customer(issue, by=manager, body="Could you send the invoice numbers?")
    deliver_due()
    row = OutboundEmail.objects.filter(contact=contact, kind="public_update").get()
    assert "Could you send the invoice numbers?" in hana.get(reverse("dev_mailbox")).content.decode()

    response = hana.post(reverse("dev_answer", args=[row.pk]), {f"e{row.pk}-body": "INV-1001 and INV-1002."})

    assert response.status_code == 302 and response["Location"] == issue.get_absolute_url()
    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS
    [wrote] = IssueEvent.objects.filter(issue=issue, kind=EventKind.CUSTOMER_MESSAGE)
    assert wrote.body == "INV-1001 and INV-1002."  # the quoted update is not part of it
    assert OutboundEmail.objects.filter(kind="customer_message", recipient=manager.email).count() == 1


def test_writing_a_new_email_as_a_contact_opens_an_issue(hana, contact, settings):
    settings.DEBUG = True

    response = hana.post(reverse("dev_new"), {"contact": contact.pk, "subject": "Printer on fire",
                                              "body": "Literally."})

    message = InboundMessage.objects.get()
    assert message.outcome == Outcome.NEW_ISSUE and response["Location"] == message.issue.get_absolute_url()


def test_correcting_a_bounced_address_in_the_admin_makes_the_contact_reachable_again(client, contact):
    from tests.factories import UserFactory

    Contact.objects.filter(pk=contact.pk).update(undeliverable_at=timezone.now(), undeliverable_reason="5.1.1")
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    response = client.post(reverse("admin:issues_contact_change", args=[contact.pk]), {
        "customer": contact.customer_id, "name": contact.name, "email": "grace.hopper@acme.example.com",
        "language": "en", "receives_updates": "on"})

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.undeliverable_at is None and contact.undeliverable_reason == ""
