"""Celery tasks of the issues app: thin wrappers that call the same functions as the commands."""

from celery import shared_task

from issues.closures import announce_closures
from issues.scan import scan_sla


@shared_task(ignore_result=True)
def scan_sla_task() -> dict[str, int]:
    """Beat runs this every minute; `manage.py scan_sla` calls the same function."""
    return vars(scan_sla())


@shared_task(ignore_result=True)
def announce_closures_task() -> int:
    """Beat runs this every quarter of an hour; `manage.py announce_closures` calls the same function."""
    return announce_closures()
