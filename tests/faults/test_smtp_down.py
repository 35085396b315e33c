"""SMTP down for five minutes: emails wait with their error, retry with backoff, and all go out once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.delivery import deliver_due
from notifications.models import OutboundEmail
from notifications.outbox import Email, enqueue

pytestmark = pytest.mark.django_db


def test_five_minutes_without_smtp_lose_nothing_and_send_nothing_twice(smtp_server, figures):
    start = timezone.now()
    enqueue([Email(recipient=f"reader{n}@customer.example.com", recipient_name=f"Reader {n}", language="en",
                   kind="resolved", dedupe_key=f"outage:{n}", context={"body": "Fixed."}) for n in range(50)],
            now=start)
    smtp_server.stop()

    for second in range(0, 5 * 60 + 1, 15):  # the beat sweep, every 15 simulated seconds for five minutes
        deliver_due(now=start + timedelta(seconds=second))
    waiting = OutboundEmail.objects.all()
    assert {row.status for row in waiting} == {OutboundEmail.Status.PENDING}
    assert all("Connection refused" in row.last_error or "ConnectionRefused" in row.last_error for row in waiting)
    attempts = waiting.first().attempts
    assert attempts == 3  # tried at 0, 1 and 3 minutes; the next try waits until minute 7
    backoff = waiting.first().next_attempt_at - start
    assert backoff == timedelta(minutes=7)

    smtp_server.start()
    sent = deliver_due(now=start + timedelta(minutes=8))
    deliver_due(now=start + timedelta(minutes=9))

    received = Counter(smtp_server.mailbox.message_ids())
    assert sent == 50 and len(received) == 50 and set(received.values()) == {1}
    figures.append(f"50 emails queued; SMTP down 5 min: {attempts} attempts each, next try at +{backoff}, "
                   f"last error kept; after: {len(received)} delivered, {sum(received.values()) - len(received)} "
                   f"duplicates")
