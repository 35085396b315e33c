"""Webhooks to a real receiver that verifies every signature: in order, each once, whatever fails on the way."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from standardwebhooks import Webhook, WebhookVerificationError

from issues import services
from tests.factories import CustomerFactory, make_issue
from webhooks import emit
from webhooks.delivery import MAX_ATTEMPTS, RETRY_AFTER, claim, deliver_due
from webhooks.models import Delivery

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
SECOND, MINUTE = timedelta(seconds=1), timedelta(minutes=1)
Status = Delivery.Status


@pytest.mark.django_db
def test_an_issue_opened_acknowledged_and_resolved_reaches_the_receiver_as_three_signed_events_in_order(
        receiver, endpoint_at, customer, manager):
    endpoint_at("crm", events=["issue.opened", "issue.updated"])
    issue = make_issue(customer=customer, at=T0, severity="orange", owner=manager, title="Invoices export times out")
    services.acknowledge(issue=issue, by=manager, now=T0 + 5 * MINUTE)
    services.resolve(issue=issue, by=manager, body="We raised the export timeout.", now=T0 + 50 * MINUTE)

    assert deliver_due(now=T0 + 51 * MINUTE) == 3
    assert deliver_due(now=T0 + 52 * MINUTE) == 0  # delivered is delivered

    got = receiver.verified("crm")
    assert [event.type for event in got] == ["issue.opened", "issue.updated", "issue.updated"]
    assert len({event.webhook_id for event in got}) == 3 and receiver.rejected() == []
    opened, acknowledged, resolved = (event.payload["data"] for event in got)
    assert opened["issue"]["reference"] == f"ACME-{issue.pk}" and opened["issue"]["owner"]["name"] == "Hana Lee"
    assert opened["issue"]["url"] == f"{settings.SITE_URL}/issues/{issue.pk}/"  # absolute, as in emails
    assert opened["issue"]["clocks"]["acknowledge"]["due_at"] == "2026-11-02T04:00:00+00:00"  # orange: 4 hours
    # One event per change, and the issue as the change left it: acknowledged, the update clock running.
    assert [change["kind"] for change in acknowledged["changes"]] == ["acknowledged"]
    assert acknowledged["issue"]["status"] == "acknowledged"
    assert acknowledged["issue"]["clocks"]["acknowledge"]["due_at"] is None
    assert acknowledged["issue"]["clocks"]["update"]["due_at"] is not None
    assert resolved["changes"][0] == {"kind": "resolved", "at": "2026-11-02T00:50:00+00:00", "public": True,
                                      "by": {"id": manager.pk, "name": "Hana Lee", "email": manager.email},
                                      "old": "acknowledged", "new": "", "body": "We raised the export timeout."}
    assert resolved["issue"]["status"] == "resolved"
    assert resolved["issue"]["clocks"]["update"]["due_at"] is None
    assert got[0].payload["timestamp"] == "2026-11-02T00:00:00+00:00"
    rows = Delivery.objects.order_by("pk")
    assert [row.status for row in rows] == [Status.DELIVERED] * 3
    assert all(row.response_status == 200 and row.response_excerpt == "ok" and row.attempts == 1 for row in rows)


@pytest.mark.django_db
def test_a_receiver_down_for_five_minutes_gets_every_event_once_in_order_per_issue_soon_after(
        receiver, endpoint_at, customer, manager, colleague, caplog):
    """Three issues, three changes each, while the receiver first refuses connections and then answers 503.
    Delivery keeps running through the outage with a clock that moves on; after it, everything arrives."""
    endpoint_at("crm")
    receiver.stop()  # down: connections refused
    issues = [make_issue(customer=customer, at=T0 + n * SECOND, owner=manager, title=f"Scanner {n} offline")
              for n in range(3)]
    runs = 0
    for second in range(0, 300, 10):
        now = T0 + second * SECOND
        if second == 150:
            receiver.start()
            receiver.answer = 503  # up, but failing
        if second == 60:
            for issue in issues:
                services.acknowledge(issue=issue, by=manager, now=now)
        if second == 200:
            for issue in issues:
                services.assign(issue=issue, owner=colleague, by=manager, now=now)
        assert deliver_due(now=now) == 0
        runs += 1
    assert runs == 30 and receiver.verified() == []
    heads = Delivery.objects.filter(event_type="issue.opened")
    # Failures are logged on their rows. Backoff, and one probe per batch at a failing endpoint (its other rows wait
    # with it, not charged), kept the 30 runs down to a handful of requests.
    tried = [row for row in heads if row.attempts]
    assert tried and all(row.response_excerpt and row.last_attempt_at for row in tried)
    assert 503 in {row.response_status for row in tried} and sum(row.attempts for row in heads) <= 6
    assert "ConnectionRefusedError" in caplog.text and "HTTP 503" in caplog.text
    assert not Delivery.objects.filter(status=Status.FAILED).exists()

    receiver.answer = 200  # back at T0 + 5 minutes
    recovered = T0 + 5 * MINUTE
    delivered, now = 0, recovered
    while delivered < 9 and now < recovered + 10 * MINUTE:
        delivered += deliver_due(now=now)
        now += 15 * SECOND  # the beat sweep's pace
    got = receiver.verified("crm")

    assert delivered == 9 and now - recovered <= 4 * MINUTE  # within a few minutes of the recovery
    assert len(got) == 9 and len({event.webhook_id for event in got}) == 9  # each once
    for issue in issues:
        mine = [event for event in got if event.issue_id == issue.pk]
        assert [event.type for event in mine] == ["issue.opened", "issue.updated", "issue.updated"]
        assert [event.payload["data"].get("changes", [{}])[0].get("kind") for event in mine] == [
            None, "acknowledged", "assigned"]
    assert receiver.failed_attempts > 0
    # Only the first event of each issue was tried during the outage: the others waited their turn.
    assert Delivery.objects.filter(event_type="issue.updated", attempts__gt=1).count() == 0


@pytest.mark.django_db
def test_a_delivery_whose_worker_died_goes_again_with_the_same_webhook_id(receiver, endpoint_at, customer, manager):
    endpoint_at("crm")
    make_issue(customer=customer, at=T0, owner=manager)
    batch = claim(now=T0, limit=10)  # a worker claims it... and dies before sending
    assert len(batch.rows) == 1

    assert deliver_due(now=T0 + MINUTE) == 0  # its lease still holds
    assert deliver_due(now=T0 + 3 * MINUTE) == 1  # the lease ran out: another worker sends it

    row = Delivery.objects.get()
    assert receiver.verified()[0].webhook_id == f"msg_{row.message_id.hex}"
    assert row.attempts == 2 and row.status == Status.DELIVERED


@pytest.mark.django_db
def test_a_receiver_that_never_recovers_fails_the_row_after_a_day_and_the_next_one_goes(
        receiver, endpoint_at, customer, manager):
    endpoint_at("crm")
    receiver.answer = 500
    issue = make_issue(customer=customer, at=T0, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)
    now, tries = T0 + MINUTE, 0
    while Delivery.objects.filter(status=Status.FAILED).count() == 0:
        deliver_due(now=now)
        tries += 1
        now += RETRY_AFTER[-1]
        assert tries <= MAX_ATTEMPTS

    first, second = Delivery.objects.order_by("pk")
    assert (first.status, first.attempts, first.response_status) == (Status.FAILED, MAX_ATTEMPTS, 500)
    # The second waited its turn: it was first tried in the run that gave up on the first.
    assert (second.status, second.attempts, second.last_attempt_at) == (Status.PENDING, 1, first.last_attempt_at)
    assert sum(RETRY_AFTER, timedelta()) > timedelta(hours=23)  # about a day of trying
    receiver.answer = 200
    assert deliver_due(now=second.next_attempt_at) == 1
    assert [event.type for event in receiver.verified()] == ["issue.updated"]


@pytest.mark.django_db
def test_a_payload_the_receiver_chokes_on_holds_back_only_its_own_issue(receiver, endpoint_at, customer, manager):
    endpoint_at("crm")
    choked, fine = (make_issue(customer=customer, at=T0, owner=manager, title=title) for title in ("One", "Two"))
    receiver.choke_on = {choked.pk}
    services.acknowledge(issue=choked, by=manager, now=T0 + MINUTE)
    services.acknowledge(issue=fine, by=manager, now=T0 + MINUTE)

    assert deliver_due(now=T0 + 2 * MINUTE) == 2

    assert [(event.issue_id, event.type) for event in receiver.verified()] == [
        (fine.pk, "issue.opened"), (fine.pk, "issue.updated")]
    assert Delivery.objects.get(issue=choked, event_type="issue.opened").response_status == 500
    assert Delivery.objects.get(issue=choked, event_type="issue.updated").attempts == 0  # waits its turn


@pytest.mark.django_db
def test_the_retry_schedule_reaches_a_receiver_back_from_a_five_minute_outage_within_minutes():
    waited = timedelta()
    for pause in RETRY_AFTER:
        waited += pause
        if waited >= 5 * MINUTE:
            break
    assert 5 * MINUTE <= waited <= 8 * MINUTE


@pytest.mark.django_db
def test_a_tampered_body_or_signature_fails_verification(receiver, endpoint_at, customer, manager):
    endpoint = endpoint_at("crm")
    make_issue(customer=customer, at=T0, owner=manager)
    deliver_due(now=T0)
    request = receiver.verified("crm")[0]

    assert Webhook(endpoint.secret).verify(request.body, request.headers)["type"] == "issue.opened"
    tampered = request.body.replace('"severity":"blue"', '"severity":"green"')
    assert tampered != request.body
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(tampered, request.headers)
    forged = {**request.headers, "webhook-signature": "v1,"
              + Webhook("whsec_" + "A" * 43 + "=").sign(request.webhook_id, T0, request.body).split(",")[1]}
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body, forged)


@pytest.mark.django_db
def test_emitting_the_same_cause_twice_writes_one_delivery(endpoint_at, customer, manager):
    endpoint_at("crm", events=["clock.breached"])
    issue = make_issue(customer=customer, at=T0, owner=manager)
    breach = [(issue.pk, "acknowledge", T0 + timedelta(hours=4), T0)]

    assert emit.clock_events("clock.breached", breach, now=T0 + timedelta(hours=4)) == 1
    assert emit.clock_events("clock.breached", breach, now=T0 + timedelta(hours=5)) == 1  # tried, kept as it was

    assert Delivery.objects.count() == 1
    assert Delivery.objects.get().payload["timestamp"] == "2026-11-02T04:00:00+00:00"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_delivery_once(receiver, endpoint_at, manager, lead):
    """Two workers claim with SKIP LOCKED at the same moment: every event arrives once, in order per issue."""
    endpoint_at("crm")
    customer = CustomerFactory(code="ACME", account_manager=manager, team__lead=lead)
    customer.team.members.add(manager)
    issues = [make_issue(customer=customer, at=T0, owner=manager, title=f"Issue {n}") for n in range(20)]
    for issue in issues:
        services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)
    start, counts = threading.Barrier(2), []

    def worker() -> None:
        start.wait()
        try:
            counts.append(deliver_due(now=T0 + 2 * MINUTE, batch_size=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    got = receiver.verified("crm")
    assert sum(counts) == 40 and len(got) == 40 and len({event.webhook_id for event in got}) == 40
    for issue in issues:
        assert [event.type for event in got if event.issue_id == issue.pk] == ["issue.opened", "issue.updated"]
    assert Delivery.objects.filter(status=Status.DELIVERED, attempts=1).count() == 40
