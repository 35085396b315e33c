"""Which changes become webhook events, for whom, and when nothing is written at all."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from issues import conversation, services, undo
from issues.models import Contact
from issues.scan import scan_sla
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    EndpointFactory,
    TeamFactory,
    make_issue,
)
from webhooks.delivery import deliver_due
from webhooks.models import Delivery

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))  # a Monday morning in Seoul
SECOND, MINUTE, HOUR = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)

pytestmark = pytest.mark.django_db


def kinds() -> list[str]:
    return list(Delivery.objects.order_by("pk").values_list("event_type", flat=True))


def test_a_change_rolled_back_sends_nothing(endpoint_at, customer, manager):
    endpoint_at("crm")
    issue = make_issue(customer=customer, at=T0, owner=manager)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)
        raise RuntimeError("the request failed after the service")
    services.assign(issue=issue, owner=manager, by=manager, now=T0 + 2 * MINUTE)  # no change: the owner already

    assert kinds() == ["issue.opened"]


def test_with_no_endpoint_a_change_writes_nothing_and_asks_at_most_once_per_transaction(customer, manager):
    with CaptureQueriesContext(connection) as queries:
        issue = make_issue(customer=customer, at=T0, owner=manager)
        services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)
        services.post_update(issue=issue, body="We are on it.", public=False, by=manager, now=T0 + 2 * MINUTE)
    webhook_queries = [query["sql"] for query in queries.captured_queries if "webhooks_" in query["sql"]]

    assert Delivery.objects.count() == 0
    assert len(webhook_queries) == 3  # one per service call: is anyone listening?
    assert all("webhooks_endpoint" in sql and "webhooks_delivery" not in sql for sql in webhook_queries)


def test_an_inactive_endpoint_or_one_for_other_events_gets_nothing(customer, manager):
    EndpointFactory(active=False)
    EndpointFactory(events=["contact.undeliverable"])

    make_issue(customer=customer, at=T0, owner=manager)

    assert Delivery.objects.count() == 0


def test_an_endpoint_of_another_team_never_hears_of_our_issues(customer, manager, outsider):
    ours = EndpointFactory(team=customer.team)
    theirs = EndpointFactory(team=outsider.teams.get())
    every_team = EndpointFactory(team=None)

    issue = make_issue(customer=customer, at=T0, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)

    assert Delivery.objects.filter(endpoint=ours).count() == 2
    assert Delivery.objects.filter(endpoint=every_team).count() == 2
    assert Delivery.objects.filter(endpoint=theirs).count() == 0


def test_the_steps_of_one_change_make_one_event(endpoint_at, customer, manager, contact):
    """Acknowledging an unowned issue also assigns it; an update that asks the customer also makes it wait."""
    endpoint_at("crm")
    issue = make_issue(customer=customer, at=T0)
    services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)
    services.post_update(issue=issue, body="Could you send the log?", public=True, wait=True, by=manager,
                         now=T0 + 2 * MINUTE)

    _opened, acknowledged, asked = (row.payload["data"] for row in Delivery.objects.order_by("pk"))
    assert [change["kind"] for change in acknowledged["changes"]] == ["assigned", "acknowledged"]
    assert acknowledged["issue"]["owner"]["name"] == "Hana Lee"
    assert [change["kind"] for change in asked["changes"]] == ["status_changed", "public_update"]
    assert asked["changes"][1]["body"] == "Could you send the log?" and asked["changes"][1]["asks"] is True
    assert asked["issue"]["status"] == "waiting_on_customer" and asked["issue"]["clocks"]["update"]["paused"]


def test_every_kind_of_staff_change_is_an_update(endpoint_at, customer, manager, colleague, contact):
    endpoint_at("crm")
    issue = make_issue(customer=customer, at=T0, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)
    services.assign(issue=issue, owner=colleague, by=manager, now=T0 + 2 * MINUTE)
    services.change_severity(issue=issue, severity="orange", by=manager, now=T0 + 3 * MINUTE)
    services.change_status(issue=issue, status="in_progress", by=manager, now=T0 + 4 * MINUTE)
    services.post_update(issue=issue, body="Looking at the logs.", public=False, by=manager, now=T0 + 5 * MINUTE)
    services.post_update(issue=issue, body="Found it.", public=True, by=manager, now=T0 + 6 * MINUTE)
    services.set_deadline(issue=issue, deadline=T0 + 72 * HOUR, by=manager, now=T0 + 7 * MINUTE)
    services.change_recipients(issue=issue, cc=[ContactFactory(customer=customer, name="Ada")], by=manager,
                               now=T0 + 8 * MINUTE)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=T0 + 9 * MINUTE)
    services.reopen(issue=issue, by=manager, now=T0 + 10 * MINUTE)

    changes = [row.payload["data"]["changes"][-1]["kind"] for row in Delivery.objects.order_by("pk")[1:]]
    assert changes == ["acknowledged", "assigned", "severity_changed", "status_changed", "internal_note",
                       "public_update", "deadline_set", "recipients_changed", "resolved", "reopened"]
    assert Delivery.objects.order_by("pk")[8].payload["data"]["changes"][0]["cc"][0]["name"] == "Ada"


def test_a_customer_answer_is_a_reply_and_the_wait_it_ends_an_update(endpoint_at, customer, manager, contact):
    endpoint_at("crm", events=["customer.replied", "issue.updated"])
    issue = make_issue(customer=customer, at=T0, owner=manager)
    services.post_update(issue=issue, body="Which scanner is it?", public=True, wait=True, by=manager,
                         now=T0 + MINUTE)

    conversation.receive_customer_message(issue=issue, contact=contact, body="Scanner 3, on the second dock.",
                                          subject="Re: scanner", at=T0 + HOUR, via="page")

    assert kinds() == ["issue.updated", "issue.updated", "customer.replied"]
    ended, replied = (row.payload["data"] for row in Delivery.objects.order_by("pk")[1:])
    assert [change["kind"] for change in ended["changes"]] == ["status_changed"]
    assert replied["message"]["body"] == "Scanner 3, on the second dock." and replied["message"]["via"] == "page"
    assert replied["message"]["contact"] == {"id": contact.pk, "name": "Grace Hopper", "email": contact.email}
    assert replied["issue"]["status"] == "in_progress"


def test_a_contact_whose_mail_bounces_is_told_once_with_the_open_issues_it_touches(endpoint_at, customer, manager,
                                                                                   contact):
    endpoint_at("crm", events=["contact.undeliverable"])
    issue = make_issue(customer=customer, at=T0, owner=manager, reporter=contact)

    conversation.mark_undeliverable(contacts=Contact.objects.filter(pk=contact.pk), reason="550 no such user",
                                    now=T0 + HOUR)
    conversation.mark_undeliverable(contacts=Contact.objects.filter(pk=contact.pk), reason="550 again",
                                    now=T0 + 2 * HOUR)

    [row] = Delivery.objects.all()
    data = row.payload["data"]
    assert data["contact"]["email"] == "grace@acme.example.com" and data["reason"] == "550 no such user"
    assert [line["reference"] for line in data["open_issues"]] == [issue.reference]
    assert data["team"]["name"] == "Enterprise Support"


def test_a_contact_of_another_team_is_not_told_to_our_endpoint(customer, manager):
    EndpointFactory(team=customer.team, events=["contact.undeliverable"])
    stranger = ContactFactory(customer=CustomerFactory(team=TeamFactory(name="Far away")))

    conversation.mark_undeliverable(contacts=Contact.objects.filter(pk=stranger.pk), reason="550", now=T0)

    assert Delivery.objects.count() == 0


def test_the_scan_s_reminders_and_breaches_arrive(receiver, endpoint_at, customer, manager):
    endpoint_at("ops", events=["clock.at_risk", "clock.breached"])
    issue = make_issue(customer=customer, at=T0, severity="red", owner=manager)  # acknowledge within an hour

    assert scan_sla(now=T0 + 46 * MINUTE).warnings == 1
    assert scan_sla(now=T0 + 61 * MINUTE).breaches == 1
    assert scan_sla(now=T0 + 62 * MINUTE).breaches == 0  # twice is once
    assert deliver_due(now=T0 + 63 * MINUTE) == 2

    at_risk, breached = receiver.verified("ops")
    assert (at_risk.type, breached.type) == ("clock.at_risk", "clock.breached")
    assert breached.payload["data"]["clock"] == {"name": "acknowledge", "due_at": "2026-11-02T01:00:00+00:00"}
    assert breached.payload["data"]["issue"]["id"] == issue.pk
    assert breached.payload["timestamp"] == "2026-11-02T01:01:00+00:00"


def test_an_undone_quick_action_never_reaches_the_receiver(receiver, endpoint_at, customer, manager, settings):
    """Its deliveries wait out the undo window, as its emails do; the undo takes them back with its events."""
    endpoint_at("crm")
    issue = make_issue(customer=customer, at=T0, owner=manager)
    deliver_due(now=T0)
    held = undo.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    assert deliver_due(now=T0 + HOUR + 5 * SECOND) == 0  # held
    undo.undo(undo_id=held.pk, by=manager, now=T0 + HOUR + 6 * SECOND)

    assert deliver_due(now=T0 + 2 * HOUR) == 0
    assert [event.type for event in receiver.verified()] == ["issue.opened"] and kinds() == ["issue.opened"]


def test_a_quick_action_not_undone_goes_once_its_window_closes(receiver, endpoint_at, customer, manager, settings):
    endpoint_at("crm")
    issue = make_issue(customer=customer, at=T0, owner=manager)
    undo.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    assert deliver_due(now=T0 + HOUR + settings.UNDO_SECONDS * SECOND) == 1  # the opening only
    assert deliver_due(now=T0 + HOUR + (settings.UNDO_SECONDS + 3) * SECOND) == 1

    assert [event.type for event in receiver.verified()] == ["issue.opened", "issue.updated"]
