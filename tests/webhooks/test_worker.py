"""A real Celery worker on the configured broker delivers a webhook within seconds of the change's commit."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from issues import services
from tests.factories import make_issue
from tests.notifications.test_worker import wait_for
from tracker.celery import app
from webhooks.models import Delivery


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_the_acknowledgement_seconds_after_the_commit(receiver, endpoint_at, settings, customer,
                                                                     manager):
    settings.OUTBOX_NUDGE_WORKER = True
    endpoint_at("crm", events=["issue.updated"])
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        issue = make_issue(customer=customer, at=customer.created_at, owner=manager)
        services.acknowledge(issue=issue, by=manager)

        assert wait_for(lambda: receiver.verified("crm")), "no webhook within 20 s"

    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
    assert receiver.verified("crm")[0].payload["data"]["changes"][0]["kind"] == "acknowledged"
