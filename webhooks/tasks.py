"""Celery tasks of the webhooks app: a thin wrapper around delivery."""

from celery import shared_task

from webhooks.delivery import deliver_due


@shared_task(ignore_result=True)
def deliver_webhooks() -> int:
    """Nudged after each commit that emits an event, and swept by beat (WEBHOOK_SWEEP_SECONDS)."""
    return deliver_due()
