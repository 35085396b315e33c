"""What staff can do about an email that did not go, and what happens to a deleted contact's emails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from issues import services
from notifications.delivery import cancel, claim, deliver_due, retry_now, send
from notifications.models import OutboundEmail
from tests.factories import ContactFactory, UserFactory, make_issue
from tests.notifications.test_delivery import T0, queue

pytestmark = pytest.mark.django_db
Status = OutboundEmail.Status
HOUR = timedelta(hours=1)


def test_the_email_preview_needs_the_permission_to_view_the_outbox(client):
    queue(1)
    email = OutboundEmail.objects.get()
    preview = reverse("admin:notifications_outboundemail_preview", args=[email.pk])
    clerk = UserFactory(username="clerk", is_staff=True)  # may use the admin, may not read the outbox
    client.force_login(clerk)

    assert client.get(preview).status_code == 403

    clerk.user_permissions.add(Permission.objects.get(codename="view_outboundemail"))
    allowed = client.get(preview)
    assert allowed.status_code == 200 and "Fixed 0" in allowed.content.decode()


def test_staff_retry_or_cancel_an_email_whose_worker_died_but_never_one_being_sent_right_now(client, settings):
    settings.OUTBOX_LEASE_SECONDS = 120
    now = timezone.now()
    queue(3, at=now - HOUR)
    died = claim(now=now - timedelta(minutes=10), limit=1).rows[0]  # its lease ran out 8 minutes ago
    busy_batch = claim(now=now, limit=1)                               # a worker is sending this one now
    busy = busy_batch.rows[0]
    left = OutboundEmail.objects.exclude(pk__in=[died.pk, busy.pk]).get()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    changelist = reverse("admin:notifications_outboundemail_changelist")

    retried = client.post(changelist, {"action": "retry_now", "_selected_action": [died.pk, busy.pk]}, follow=True)
    client.post(changelist, {"action": "cancel", "_selected_action": [busy.pk, left.pk]})

    died.refresh_from_db()
    assert (died.status, died.attempts, died.claim_token) == (Status.PENDING, 0, None)
    assert OutboundEmail.objects.get(pk=left.pk).status == Status.CANCELLED
    assert OutboundEmail.objects.get(pk=busy.pk).status == Status.SENDING
    assert "1 email was left as it is" in retried.content.decode()
    # The worker holding the live lease still owns the row: its result is recorded, once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send(busy_batch, now=now) == 1
    assert OutboundEmail.objects.get(pk=busy.pk).status == Status.SENT


def test_cancel_and_retry_re_check_the_lease_in_the_update_itself():
    now = timezone.now()
    queue(1, at=now - HOUR)
    selected = OutboundEmail.objects.all()  # what staff ticked while the row was still pending
    claim(now=now, limit=1)                 # then a worker took it

    assert cancel(selected, now=now) == 0 and retry_now(selected, now=now) == 0
    assert OutboundEmail.objects.get().status == Status.SENDING

    later = now + timedelta(hours=1)        # the worker died; its lease ran out
    assert cancel(selected, now=later) == 1
    assert OutboundEmail.objects.get().status == Status.CANCELLED


def test_a_deleted_contacts_queued_email_is_cancelled_and_never_sent_as_a_staff_email(
        smtp_server, customer, contact, manager):
    ada = ContactFactory(customer=customer, name="Ada Lovelace", email="ada@acme.example.com", follows_all_issues=True)
    issue = make_issue(customer=customer, at=T0)
    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)
    grace_address = contact.email
    contact.delete()

    assert deliver_due(now=T0 + 2 * HOUR) == 1

    [sent] = smtp_server.mailbox.messages
    assert sent["To"].addresses[0].addr_spec == ada.email
    orphan = OutboundEmail.objects.get(recipient=grace_address)
    assert orphan.status == Status.CANCELLED and "contact" in orphan.last_error
    assert not smtp_server.mailbox.to(grace_address)
    assert deliver_due(now=T0 + 3 * HOUR) == 0
