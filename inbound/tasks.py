"""Celery tasks: thin wrappers around the IMAP poll and the pipeline's sweep."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from inbound.imap import FetchResult, fetch_new
from inbound.models import Source
from inbound.pipeline import process_pending, receive


def poll_mailbox() -> FetchResult:
    """Store each new message (and act on it) before it is flagged in the mailbox."""
    return fetch_new(url=settings.INBOUND_IMAP_URL, store=lambda raw: receive(raw, source=Source.IMAP),
                     timeout=settings.INBOUND_IMAP_TIMEOUT)


@shared_task(ignore_result=True)
def fetch_email() -> int:
    """Beat runs this every INBOUND_POLL_SECONDS when INBOUND_IMAP_URL is set."""
    if not settings.INBOUND_IMAP_URL:
        return 0
    return poll_mailbox().stored


@shared_task(ignore_result=True)
def process_inbound() -> int:
    """Beat's net under the pipeline: act on messages stored but not acted on (a crash, a failure)."""
    return process_pending()
