"""Delivery to a real SMTP server: every email arrives once, whatever fails on the way."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections
from django.utils import timezone

from issues import services
from issues.models import EventKind
from notifications.delivery import backoff, claim, deliver_due
from notifications.models import OutboundEmail
from notifications.outbox import Email, enqueue
from tests.factories import ContactFactory, make_issue

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
HOUR = timedelta(hours=1)
Status = OutboundEmail.Status


def queue(count: int, *, at: datetime = T0, prefix: str = "mail") -> list[OutboundEmail]:
    """Resolution notices about no issue in particular: the simplest emails there are."""
    return enqueue([
        Email(recipient=f"{prefix}{n}@customer.example.com", recipient_name=f"Reader {n}", language="en",
              kind="resolved", dedupe_key=f"{prefix}:{n}", context={"body": f"Fixed {n}"})
        for n in range(count)
    ], now=at)


@pytest.mark.django_db
def test_an_acknowledgement_arrives_with_both_parts_threading_and_the_contacts_language(
        smtp_server, customer, contact, manager):
    ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.com", language="ko",
                   follows_all_issues=True)
    issue = make_issue(customer=customer, at=T0)
    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    assert deliver_due(now=T0 + 2 * HOUR) == 2

    english = smtp_server.mailbox.to("grace@acme.example.com")[0]
    korean = smtp_server.mailbox.to("seoyeon@acme.example.com")[0]
    assert english["Subject"] == f"[ACME-{issue.pk}] We are on it: Invoices export times out"
    assert english["To"] == "Grace Hopper <grace@acme.example.com>"
    assert english["From"] == "Inloop <support@inloop.localhost>"
    assert english["In-Reply-To"] == english["References"] == f"<issue-{issue.pk}@inloop.localhost>"
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = english.get_body(("plain",)).get_content()
    html = english.get_body(("html",)).get_content()
    assert "Hana Lee is looking after it" in text and "<strong>Invoices export times out</strong>" in html
    # Django folds a non-ASCII subject onto a continuation line; readers drop the leading space.
    assert korean["Subject"].strip() == f"[ACME-{issue.pk}] 문의를 접수했습니다: Invoices export times out"
    assert "박서연님, 안녕하세요." in korean.get_body(("plain",)).get_content()
    assert 'lang="ko"' in korean.get_body(("html",)).get_content()
    sent = OutboundEmail.objects.get(recipient="grace@acme.example.com")
    assert english["Message-ID"] == sent.message_id
    assert (sent.status, sent.sent_at, sent.attempts) == (Status.SENT, T0 + 2 * HOUR, 1)
    assert issue.events.filter(kind=EventKind.EMAIL_SENT).count() == 2


@pytest.mark.django_db
def test_delivering_twice_sends_each_email_once(smtp_server):
    queue(5)

    assert deliver_due(now=T0) == 5
    assert deliver_due(now=T0 + HOUR) == 0

    assert len(smtp_server.mailbox.messages) == 5
    assert len(set(smtp_server.mailbox.message_ids())) == 5


@pytest.mark.django_db
def test_an_email_waits_until_its_time(smtp_server):
    queue(1, at=T0 + HOUR)

    assert deliver_due(now=T0) == 0
    assert deliver_due(now=T0 + HOUR) == 1


@pytest.mark.django_db
def test_while_the_smtp_server_is_down_emails_wait_with_their_error_and_back_off(smtp_server):
    queue(3)
    smtp_server.stop()

    assert deliver_due(now=T0) == 0
    rows = OutboundEmail.objects.all()
    assert {(row.status, row.attempts) for row in rows} == {(Status.PENDING, 1)}
    assert all("Connection refused" in row.last_error or "ConnectionRefused" in row.last_error for row in rows)
    assert {row.next_attempt_at for row in rows} == {T0 + timedelta(minutes=1)}

    assert deliver_due(now=T0 + timedelta(seconds=30)) == 0  # not yet due again: no attempt
    assert deliver_due(now=T0 + timedelta(minutes=1)) == 0
    assert {row.next_attempt_at for row in OutboundEmail.objects.all()} == {T0 + timedelta(minutes=3)}
    assert {row.attempts for row in OutboundEmail.objects.all()} == {2}

    smtp_server.start()
    assert deliver_due(now=T0 + timedelta(minutes=3)) == 3
    assert len(smtp_server.mailbox.messages) == 3
    assert {row.status for row in OutboundEmail.objects.all()} == {Status.SENT}
    assert deliver_due(now=T0 + HOUR) == 0
    assert len(smtp_server.mailbox.messages) == 3


def test_backoff_doubles_and_stops_growing_at_an_hour():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(30) == timedelta(hours=1)


@pytest.mark.django_db
def test_a_recipient_refused_for_good_fails_without_more_attempts_and_the_rest_still_go(smtp_server):
    queue(3)
    smtp_server.mailbox.refuse.add("mail1@customer.example.com")

    assert deliver_due(now=T0) == 2

    refused = OutboundEmail.objects.get(recipient="mail1@customer.example.com")
    assert refused.status == Status.FAILED and refused.attempts == 1
    assert "550" in refused.last_error and "No such user" in refused.last_error
    assert deliver_due(now=T0 + timedelta(days=1)) == 0
    assert OutboundEmail.objects.get(pk=refused.pk).attempts == 1


@pytest.mark.django_db
def test_a_recipient_deferred_for_now_is_retried_alone(smtp_server):
    queue(2)
    smtp_server.mailbox.defer.add("mail0@customer.example.com")

    assert deliver_due(now=T0) == 1
    deferred = OutboundEmail.objects.get(recipient="mail0@customer.example.com")
    assert deferred.status == Status.PENDING and "451" in deferred.last_error

    smtp_server.mailbox.defer.clear()
    assert deliver_due(now=T0 + timedelta(minutes=1)) == 1
    assert len(smtp_server.mailbox.to("mail0@customer.example.com")) == 1


@pytest.mark.django_db
def test_an_email_whose_worker_died_mid_send_is_sent_after_the_lease_expires(smtp_server, settings):
    settings.OUTBOX_LEASE_SECONDS = 120
    queue(1)
    crashed = claim(now=T0, limit=10)  # a worker claims the row, then dies before sending
    assert crashed.rows[0].status == Status.SENDING

    assert deliver_due(now=T0 + timedelta(seconds=60)) == 0  # the lease still holds
    assert deliver_due(now=T0 + timedelta(seconds=120)) == 1

    row = OutboundEmail.objects.get()
    assert (row.status, row.attempts) == (Status.SENT, 2)
    assert len(smtp_server.mailbox.messages) == 1


@pytest.mark.django_db
def test_a_late_worker_cannot_overwrite_the_result_of_the_one_that_took_over(smtp_server, settings):
    from notifications.delivery import send

    settings.OUTBOX_LEASE_SECONDS = 60
    queue(1)
    slow = claim(now=T0, limit=10)
    assert deliver_due(now=T0 + timedelta(seconds=61)) == 1  # another worker took over and sent it

    assert send(slow, now=T0 + timedelta(seconds=90)) == 0  # the slow one's result is not recorded

    row = OutboundEmail.objects.get()
    assert row.status == Status.SENT and row.sent_at == T0 + timedelta(seconds=61)


@pytest.mark.django_db
def test_delivery_gives_up_after_the_last_attempt(smtp_server, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    queue(1)
    smtp_server.stop()

    deliver_due(now=T0)
    deliver_due(now=T0 + HOUR)

    row = OutboundEmail.objects.get()
    assert (row.status, row.attempts) == (Status.FAILED, 2)


@pytest.mark.django_db
def test_a_cancelled_email_is_never_sent(smtp_server):
    queue(1)
    OutboundEmail.objects.update(status=Status.CANCELLED)

    assert deliver_due(now=T0) == 0
    assert not smtp_server.mailbox.messages


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_delivering_at_once_send_each_email_exactly_once(smtp_server):
    queue(200)
    now = timezone.now()
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            results.append(deliver_due(now=now, batch_size=10))
        except BaseException as error:  # surfaced below: a thread's failure must fail the test
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert sum(results) == 200
    ids = smtp_server.mailbox.message_ids()
    assert len(ids) == 200 and len(set(ids)) == 200
    assert OutboundEmail.objects.filter(status=Status.SENT).count() == 200


@pytest.mark.django_db
def test_the_deliver_outbox_command_sends_what_is_due(smtp_server):
    from io import StringIO

    from django.core.management import call_command

    queue(2, at=timezone.now() - HOUR)
    output = StringIO()

    call_command("deliver_outbox", stdout=output)

    assert output.getvalue().strip() == "Delivered 2 emails."
    assert len(smtp_server.mailbox.messages) == 2

