"""A customer turns status updates off and on from a link; an admin sees, retries and cancels emails."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from notifications.links import unsubscribe_token
from notifications.models import OutboundEmail
from notifications.outbox import Email, enqueue, new_message_id
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = OutboundEmail.Status


def link(contact) -> str:
    return reverse("unsubscribe", kwargs={"token": unsubscribe_token(contact.pk, contact.email)})


def test_opening_the_link_changes_nothing_so_mail_scanners_cannot_unsubscribe_anyone(client, contact):
    response = client.get(link(contact))

    assert response.status_code == 200
    assert "Stop status updates" in response.content.decode()
    contact.refresh_from_db()
    assert contact.receives_updates


def test_a_contact_stops_updates_and_can_turn_them_back_on_from_the_same_page(client, contact):
    stopped = client.post(link(contact))
    contact.refresh_from_db()
    assert not contact.receives_updates
    assert "You will no longer receive status updates" in stopped.content.decode()
    assert "Turn status updates back on" in stopped.content.decode()

    restarted = client.post(link(contact), {"receives_updates": "on"})
    contact.refresh_from_db()
    assert contact.receives_updates
    assert "Status updates are on again" in restarted.content.decode()


def test_one_click_unsubscribe_from_a_mail_provider_works_without_a_csrf_token(contact):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = strict.post(link(contact), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    contact.refresh_from_db()
    assert not contact.receives_updates


def test_the_page_speaks_the_contacts_language(client, customer):
    korean = ContactFactory(customer=customer, language="ko")

    response = client.get(link(korean))

    assert "진행 상황 메일 그만 받기" in response.content.decode()


def test_a_tampered_link_gets_a_clear_page_not_an_error(client, contact):
    token = unsubscribe_token(contact.pk, contact.email)
    forged = token.replace(f"{contact.pk}:", f"{contact.pk + 1}:", 1)

    response = client.get(reverse("unsubscribe", kwargs={"token": forged}))

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_an_expired_link_says_so(client, contact, settings, monkeypatch):
    settings.UNSUBSCRIBE_LINK_MAX_AGE = 60
    a_day_ago = time.time() - 24 * 3600
    with monkeypatch.context() as yesterday:
        yesterday.setattr(signing.time, "time", lambda: a_day_ago)
        token = unsubscribe_token(contact.pk, contact.email)

    response = client.get(reverse("unsubscribe", kwargs={"token": token}))

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    contact.refresh_from_db()
    assert contact.receives_updates


def queued(status: str = Status.PENDING, error: str = "") -> OutboundEmail:
    enqueue([Email(recipient="grace@acme.example.com", recipient_name="Grace", language="en", kind="resolved",
                   dedupe_key=new_message_id(), context={"body": "Fixed <script>alert(1)</script>"})])
    row = OutboundEmail.objects.latest("id")
    OutboundEmail.objects.filter(pk=row.pk).update(status=status, last_error=error)
    row.refresh_from_db()
    return row


def test_the_admin_lists_the_outbox_with_errors_and_shows_a_sandboxed_preview(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    failed = queued(Status.FAILED, error="550 5.1.1 No such user here")

    listing = client.get(reverse("admin:notifications_outboundemail_changelist"))
    detail = client.get(reverse("admin:notifications_outboundemail_change", args=[failed.pk]))

    assert "550 5.1.1 No such user here" in listing.content.decode()
    assert "<iframe sandbox" in detail.content.decode()
    frame = client.get(reverse("admin:notifications_outboundemail_preview", args=[failed.pk]))
    assert frame.headers["Content-Security-Policy"].endswith("sandbox")  # no script runs, even if one slipped in
    assert "script-src" not in frame.headers["Content-Security-Policy"]
    assert "&lt;script&gt;" in frame.content.decode() and "<script>alert(1)" not in frame.content.decode()


def test_the_admin_retries_a_failed_email_now_and_cancels_a_pending_one(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    failed = queued(Status.FAILED, error="gave up")
    pending = queued(Status.PENDING)
    changelist = reverse("admin:notifications_outboundemail_changelist")

    client.post(changelist, {"action": "retry_now", "_selected_action": [failed.pk]})
    client.post(changelist, {"action": "cancel", "_selected_action": [pending.pk]})

    failed.refresh_from_db()
    pending.refresh_from_db()
    assert failed.status == Status.PENDING and failed.next_attempt_at <= timezone.now()
    assert pending.status == Status.CANCELLED
