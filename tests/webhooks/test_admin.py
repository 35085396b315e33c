"""The admin: an endpoint is added with a fresh secret, tested, rotated; the delivery log is retried or cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from standardwebhooks import Webhook

from issues import services
from tests.factories import UserFactory, make_issue
from webhooks.delivery import deliver_due
from webhooks.models import Delivery, Endpoint

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
MINUTE = timedelta(minutes=1)
Status = Delivery.Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def act(client, model: str, action: str, rows) -> None:
    response = client.post(reverse(f"admin:webhooks_{model}_changelist"),
                           {"action": action, "_selected_action": [row.pk for row in rows]})
    assert response.status_code == 302


def test_an_admin_adds_an_endpoint_and_it_gets_a_secret_of_its_own(admin_client, customer):
    response = admin_client.post(reverse("admin:webhooks_endpoint_add"), {
        "name": "CRM", "url": "https://crm.example.com/inloop", "format": "standard", "language": "en",
        "team": customer.team.pk, "events": ["issue.opened", "clock.breached"], "active": "on"})

    assert response.status_code == 302
    endpoint = Endpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.events == ["issue.opened", "clock.breached"] and endpoint.team == customer.team
    page = admin_client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret in page  # shown to the admin, to copy into the receiver


def test_the_list_counts_what_waits_and_what_failed(admin_client, endpoint_at, customer, manager):
    endpoint_at("crm")
    issue = make_issue(customer=customer, at=T0, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)
    Delivery.objects.filter(event_type="issue.opened").update(status=Status.FAILED)

    page = admin_client.get(reverse("admin:webhooks_endpoint_changelist")).content.decode()

    assert '<td class="field-pending">1</td>' in page and '<td class="field-failed">1</td>' in page
    assert admin_client.get(reverse("admin:webhooks_delivery_changelist") + "?status__exact=failed").status_code == 200


def test_a_test_event_reaches_the_receiver_signed(admin_client, receiver, endpoint_at):
    endpoint = endpoint_at("crm")

    act(admin_client, "endpoint", "send_test", [endpoint])
    assert deliver_due() == 1

    [event] = receiver.verified("crm")
    assert event.type == "webhook.test" and event.payload["data"]["endpoint"]["name"] == "crm"


def test_after_a_rotation_receivers_with_either_secret_verify_for_a_day(admin_client, receiver, endpoint_at):
    endpoint = endpoint_at("crm")
    old = endpoint.secret

    act(admin_client, "endpoint", "rotate_secret", [endpoint])
    endpoint.refresh_from_db()
    act(admin_client, "endpoint", "send_test", [endpoint])
    deliver_due()

    [request] = receiver.verified("crm")  # the receiver still holds the old secret
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert Webhook(endpoint.secret).verify(request.body, request.headers)["type"] == "webhook.test"
    assert len(request.headers["webhook-signature"].split(" ")) == 2


def test_retry_now_gives_a_failed_delivery_a_fresh_round_and_cancel_lets_the_next_one_go(
        admin_client, receiver, endpoint_at, customer, manager):
    endpoint_at("crm")
    issue = make_issue(customer=customer, at=T0, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)
    opened, acknowledged = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=opened.pk).update(status=Status.FAILED, attempts=12)

    act(admin_client, "delivery", "retry_now", [opened])
    opened.refresh_from_db()
    assert (opened.status, opened.attempts) == (Status.PENDING, 0)

    act(admin_client, "delivery", "cancel", [opened])
    assert deliver_due() == 1  # the update no longer waits behind the cancelled opening

    assert [event.type for event in receiver.verified()] == ["issue.updated"]
    act(admin_client, "delivery", "cancel", [acknowledged])  # delivered: left as it is
    acknowledged.refresh_from_db()
    assert acknowledged.status == Status.DELIVERED
