"""Celery tasks of the API: thin wrappers, as everywhere."""

from celery import shared_task

from api.idempotency import sweep


@shared_task(ignore_result=True)
def sweep_idempotency_keys() -> int:
    """Beat runs this hourly: Idempotency-Keys older than 24 hours are forgotten."""
    return sweep()
