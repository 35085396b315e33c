"""A real Celery worker on the configured broker (a folder locally, Redis in CI) delivers the email
within seconds of the change that queued it."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker

from issues import services
from notifications.models import OutboundEmail
from tests.factories import make_issue
from tracker.celery import app


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_the_acknowledgement_seconds_after_the_commit(smtp_server, settings, customer, contact,
                                                                     manager):
    settings.OUTBOX_NUDGE_WORKER = True
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        issue = make_issue(customer=customer, at=customer.created_at)
        services.acknowledge(issue=issue, by=manager)

        assert wait_for(lambda: smtp_server.mailbox.to(contact.email)), "no email within 20 s"

    assert OutboundEmail.objects.get(recipient=contact.email).status == OutboundEmail.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_change_commits_at_once_even_when_the_broker_is_unreachable(settings, customer, contact, manager,
                                                                      monkeypatch):
    settings.OUTBOX_NUDGE_WORKER = True
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:9/0")  # nothing listens on port 9
    monkeypatch.setattr(app, "_pool", None)
    issue = make_issue(customer=customer, at=customer.created_at)

    started = time.monotonic()
    services.acknowledge(issue=issue, by=manager)
    took = time.monotonic() - started

    assert took < 0.5, f"the request waited {took:.1f} s on the broker"
    assert OutboundEmail.objects.get(recipient=contact.email).status == OutboundEmail.Status.PENDING
