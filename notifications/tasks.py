"""Celery tasks: thin wrappers around the delivery and digest functions."""

from celery import shared_task

from issues.conversation import mark_refused_contacts
from notifications.delivery import deliver_due
from notifications.repeats import send_mornings


@shared_task(ignore_result=True)
def deliver_outbox() -> int:
    """Nudged after each commit that queues email, and swept every minute by beat. Addresses the relay
    refused for good then make their contacts undeliverable."""
    sent = deliver_due()
    mark_refused_contacts()
    return sent


@shared_task(ignore_result=True)
def send_digests_task() -> int:
    """Beat runs this every quarter of an hour; it queues the digests of people whose working day began, with the
    morning reminders of breaches still open folded in (a reminder email to whoever gets no digest)."""
    return send_mornings().digests
