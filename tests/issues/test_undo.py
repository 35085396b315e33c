"""Undo: a customer-facing quick action (acknowledge, bulk acknowledge, resolve) waits a few seconds before
anything reaches the customer, and the person who acted may take it back whole, or not at all."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.urls import reverse

from issues import composer, services, undo
from issues.models import Breach, EventKind, Issue, IssueEvent, Promise, Status, Undo
from issues.scan import scan_sla
from notifications import delivery
from notifications.models import OutboundEmail
from tests.factories import make_issue

SEOUL = ZoneInfo("Asia/Seoul")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ten_seconds(settings):
    settings.UNDO_SECONDS = 10


@pytest.fixture
def breached(customer, contact, manager):
    """A red issue nobody acknowledged within the hour: the scan recorded the breach and told owner and lead."""
    issue = make_issue(customer=customer, at=T0, severity="red", reporter=contact, owner=manager,
                       title="Checkout is down")
    assert scan_sla(now=T0 + 2 * HOUR).breaches == 1
    return Issue.objects.get(pk=issue.pk)


def state(issue: Issue) -> dict:
    """Everything undo must put back: the issue's columns, its breaches, promises and timeline."""
    fresh = Issue.objects.get(pk=issue.pk)
    return {"issue": model_to_dict(fresh), "breaches": list(fresh.breaches.values("pk", "cleared_at")),
            "promises": list(Promise.objects.filter(issue=fresh).values("pk", "kept_at", "broken_at")),
            "events": list(fresh.events.values_list("pk", "kind"))}


def to_customers(issue: Issue) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(issue=issue, contact__isnull=False))


def test_undo_within_the_window_restores_everything_and_no_email_is_ever_sent(breached, manager):
    before = state(breached)
    staff_emails = OutboundEmail.objects.count()  # the scan's breach notices, sent before any of this

    held = undo.acknowledge(issue=breached, by=manager, now=T0 + 3 * HOUR)

    [email] = to_customers(breached)
    assert email.kind == "acknowledged" and email.next_attempt_at == T0 + 3 * HOUR + 10 * SECOND
    OutboundEmail.objects.exclude(pk=email.pk).update(status=OutboundEmail.Status.SENT)  # the notices are not ours
    assert delivery.deliver_due(now=T0 + 3 * HOUR + 5 * SECOND) == 0  # held: nothing leaves early
    assert Breach.objects.get(issue=breached).cleared_at is not None

    undo.undo(undo_id=held.pk, by=manager, now=T0 + 3 * HOUR + 6 * SECOND)

    after = state(breached)
    assert after["issue"] == before["issue"] and after["breaches"] == before["breaches"]
    assert after["events"][:-1] == before["events"]  # the action's lines are gone ...
    undone = IssueEvent.objects.get(issue=breached, kind=EventKind.UNDONE)  # ... and one line says so, internally
    assert not undone.public and undone.actor == manager and "acknowledged" in undone.data["removed"]
    assert delivery.deliver_due(now=T0 + 4 * HOUR) == 0
    assert not to_customers(breached) and OutboundEmail.objects.count() == staff_emails


def test_acknowledging_again_after_an_undo_emails_the_customer_again(breached, manager):
    held = undo.acknowledge(issue=breached, by=manager, now=T0 + 3 * HOUR)
    undo.undo(undo_id=held.pk, by=manager, now=T0 + 3 * HOUR + SECOND)

    undo.acknowledge(issue=breached, by=manager, now=T0 + 3 * HOUR + 20 * SECOND)

    # The acknowledgement's key names its cycle, as before the undo: the undone email left room for this one.
    assert [email.kind for email in to_customers(breached)] == ["acknowledged"]
    assert delivery.deliver_due(now=T0 + 3 * HOUR + 31 * SECOND) >= 1
    assert OutboundEmail.objects.get(issue=breached, kind="acknowledged").status == OutboundEmail.Status.SENT


def test_undo_after_the_email_was_sent_is_refused_and_changes_nothing(breached, manager, contact):
    held = undo.acknowledge(issue=breached, by=manager, now=T0 + 3 * HOUR)
    # Someone pressed "Retry now" in the outbox's admin: the email left within the window.
    delivery.retry_now(OutboundEmail.objects.filter(kind="acknowledged"), now=T0 + 3 * HOUR + SECOND)
    assert delivery.deliver_due(now=T0 + 3 * HOUR + 2 * SECOND) >= 1
    before = state(breached)

    with pytest.raises(ValidationError, match=f"Too late to undo: the email to {contact.email} has gone."):
        undo.undo(undo_id=held.pk, by=manager, now=T0 + 3 * HOUR + 3 * SECOND)

    assert state(breached) == before
    assert Undo.objects.get(pk=held.pk).undone_at is None
    assert OutboundEmail.objects.get(kind="acknowledged").status == OutboundEmail.Status.SENT


def test_undo_while_a_worker_holds_the_email_is_refused(breached, manager):
    held = undo.acknowledge(issue=breached, by=manager, now=T0 + 3 * HOUR)
    delivery.retry_now(OutboundEmail.objects.filter(kind="acknowledged"), now=T0 + 3 * HOUR + SECOND)
    assert delivery.claim(now=T0 + 3 * HOUR + 2 * SECOND, limit=10) is not None  # being sent right now

    with pytest.raises(ValidationError, match="Too late to undo"):
        undo.undo(undo_id=held.pk, by=manager, now=T0 + 3 * HOUR + 3 * SECOND)

    breached.refresh_from_db()
    assert breached.acknowledged_at == T0 + 3 * HOUR
    assert OutboundEmail.objects.get(kind="acknowledged").status == OutboundEmail.Status.SENDING


def test_undoing_twice_is_undoing_once(breached, manager):
    held = undo.acknowledge(issue=breached, by=manager, now=T0 + 3 * HOUR)

    for seconds in (2, 3):
        undo.undo(undo_id=held.pk, by=manager, now=T0 + 3 * HOUR + seconds * SECOND)

    assert IssueEvent.objects.filter(issue=breached, kind=EventKind.UNDONE).count() == 1
    assert Undo.objects.get(pk=held.pk).undone_at == T0 + 3 * HOUR + 2 * SECOND


def test_only_the_person_who_acted_can_undo_and_only_within_the_window(breached, manager, colleague):
    held = undo.acknowledge(issue=breached, by=manager, now=T0 + 3 * HOUR)

    with pytest.raises(ValidationError, match="Only the person who acted can undo it."):
        undo.undo(undo_id=held.pk, by=colleague, now=T0 + 3 * HOUR + SECOND)
    with pytest.raises(ValidationError, match="Too late to undo"):
        undo.undo(undo_id=held.pk, by=manager, now=T0 + 3 * HOUR + 10 * SECOND)

    breached.refresh_from_db()
    assert breached.status == Status.ACKNOWLEDGED and len(to_customers(breached)) == 1
    assert delivery.deliver_due(now=T0 + 3 * HOUR + 11 * SECOND) >= 1  # and then it goes


def test_a_change_made_since_by_a_colleague_blocks_the_undo(breached, manager, colleague):
    held = undo.acknowledge(issue=breached, by=manager, now=T0 + 3 * HOUR)
    services.change_severity(issue=breached, severity="orange", by=colleague, now=T0 + 3 * HOUR + SECOND)

    with pytest.raises(ValidationError, match=f"Cannot undo: {breached.reference} has changed since"):
        undo.undo(undo_id=held.pk, by=manager, now=T0 + 3 * HOUR + 2 * SECOND)

    breached.refresh_from_db()
    assert breached.acknowledged_at is not None and breached.severity == "orange"


def test_bulk_acknowledge_is_one_undo_for_the_whole_batch(customer, contact, manager):
    first, second, done = (make_issue(customer=customer, at=T0, reporter=contact, title=f"Issue {n}")
                           for n in range(3))
    services.acknowledge(issue=done, by=manager, now=T0 + HOUR)
    before = {issue.pk: state(issue) for issue in (first, second, done)}

    batch = undo.acknowledge_all(issues=[first, second, done], by=manager, now=T0 + 2 * HOUR)

    assert [issue.pk for issue in batch.done] == [first.pk, second.pk]
    assert [issue.pk for issue, _error in batch.refused] == [done.pk]
    assert sorted(batch.undo.issue_ids) == [first.pk, second.pk]
    assert OutboundEmail.objects.filter(next_attempt_at=T0 + 2 * HOUR + 10 * SECOND).count() == 2

    undo.undo(undo_id=batch.undo.pk, by=manager, now=T0 + 2 * HOUR + 4 * SECOND)

    for issue in (first, second):
        after = state(issue)
        assert after["issue"] == before[issue.pk]["issue"] and after["events"][:-1] == before[issue.pk]["events"]
    assert state(done) == before[done.pk]
    assert not OutboundEmail.objects.filter(issue__in=[first, second]).exists()


def test_undoing_send_and_resolve_puts_the_issue_back_with_its_promise(customer, contact, manager):
    issue = make_issue(customer=customer, at=T0, reporter=contact, owner=manager)
    services.post_update(issue=issue, body="Looking into it.", public=True, by=manager, now=T0 + HOUR,
                         promised_update_at=T0 + 5 * HOUR)
    before = state(issue)

    sent = composer.send(issue=issue, body="Replaced the fuser.", public=True, then=composer.RESOLVE, by=manager,
                         now=T0 + 2 * HOUR)
    assert Promise.objects.get(issue=issue).kept_at == T0 + 2 * HOUR
    undo.undo(undo_id=sent.undo.pk, by=manager, now=T0 + 2 * HOUR + 9 * SECOND)

    after = state(issue)
    assert after["issue"] == before["issue"] and after["promises"] == before["promises"]
    assert after["issue"]["status"] == Status.ACKNOWLEDGED
    assert not OutboundEmail.objects.filter(issue=issue, kind="resolved").exists()
    # The promise is open again (the scan judges it when its date comes); the undo keeps what it took back.
    assert [event["body"] for event in sent.undo.events if event["kind"] == "resolved"] == ["Replaced the fuser."]


def test_with_undo_seconds_at_zero_emails_leave_at_once_and_there_is_nothing_to_undo(breached, manager, settings):
    settings.UNDO_SECONDS = 0

    assert undo.acknowledge(issue=breached, by=manager, now=T0 + 3 * HOUR) is None

    [email] = to_customers(breached)
    assert email.next_attempt_at == T0 + 3 * HOUR and not Undo.objects.exists()


# --- on the page ----------------------------------------------------------------------------------


def test_the_acknowledge_button_offers_an_undo_that_takes_it_back(client, customer, contact, manager, colleague):
    issue = make_issue(customer=customer, at=T0, reporter=contact)
    client.force_login(manager)

    page = client.post(reverse("issue_acknowledge", kwargs={"pk": issue.pk}), follow=True).content.decode()
    held = Undo.objects.get()
    assert f'action="/undo/{held.pk}/"' in page and f'name="next" value="{issue.get_absolute_url()}"' in page

    other = client.__class__()
    other.force_login(colleague)
    assert other.post(reverse("undo", kwargs={"pk": held.pk})).status_code == 404  # not theirs: not there
    response = client.post(reverse("undo", kwargs={"pk": held.pk}), {"next": issue.get_absolute_url()}, follow=True)

    assert response.redirect_chain == [(issue.get_absolute_url(), 302)]
    assert "Undone: nothing reached the customer." in response.content.decode()
    issue.refresh_from_db()
    assert issue.acknowledged_at is None and not OutboundEmail.objects.filter(issue=issue).exists()


def test_an_undone_send_and_resolve_comes_back_in_the_composer(client, customer, contact, manager):
    issue = make_issue(customer=customer, at=T0, reporter=contact, owner=manager)
    client.force_login(manager)
    client.post(reverse("issue_compose", kwargs={"pk": issue.pk}),
                {"compose-audience": "public", "compose-body": "Replaced the fuser.", "compose-then": "resolve"})

    response = client.post(reverse("undo", kwargs={"pk": Undo.objects.get().pk}), follow=True)

    form = response.context["compose_form"]
    assert form.initial["body"] == "Replaced the fuser." and form.chosen == ("public", "resolve")
    assert form.button == "Send and resolve"
    issue.refresh_from_db()
    assert issue.is_open


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_undo_waiting_on_a_worker_that_is_claiming_the_email_is_refused_once_the_claim_commits(
        customer, contact, manager):
    issue = make_issue(customer=customer, at=T0, reporter=contact, owner=manager)
    held = undo.acknowledge(issue=issue, by=manager, now=T0 + HOUR)
    claimed, release, errors = threading.Event(), threading.Event(), []

    def worker_claims() -> None:
        # A delivery's claim, caught between its UPDATE and its commit: the row is locked, not yet "sending".
        try:
            with transaction.atomic():
                OutboundEmail.objects.filter(kind="acknowledged", status=OutboundEmail.Status.PENDING).update(
                    status=OutboundEmail.Status.SENDING, claim_token=uuid.uuid4())
                claimed.set()
                release.wait(10)
        except Exception as error:  # noqa: BLE001 - the test reports any error below
            errors.append(error)
        finally:
            connection.close()

    worker = threading.Thread(target=worker_claims)
    worker.start()
    assert claimed.wait(10)
    threading.Timer(0.5, release.set).start()  # the claim commits while the undo waits on the row

    with pytest.raises(ValidationError, match="Too late to undo"):
        undo.undo(undo_id=held.pk, by=manager, now=T0 + HOUR + 2 * SECOND)
    worker.join(10)

    assert errors == []
    issue.refresh_from_db()
    assert issue.acknowledged_at == T0 + HOUR and Undo.objects.get(pk=held.pk).undone_at is None
    assert OutboundEmail.objects.get(kind="acknowledged").status == OutboundEmail.Status.SENDING
