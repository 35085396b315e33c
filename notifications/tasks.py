"""Celery tasks: thin wrappers around the delivery function."""

from celery import shared_task

from notifications.delivery import deliver_due


@shared_task(ignore_result=True)
def deliver_outbox() -> int:
    """Nudged after each commit that queues email, and swept every minute by beat."""
    return deliver_due()
