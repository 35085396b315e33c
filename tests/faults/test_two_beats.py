"""Two beats and two workers at once (a misconfigured deployment) for five simulated minutes over 300 due
breaches: nothing is recorded or sent twice."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.utils import timezone

from issues.models import Breach
from issues.scan import scan_sla
from notifications.delivery import deliver_due
from notifications.models import EmailKind, OutboundEmail
from tests.factories import bulk_issues
from tests.issues.test_burst_scan import assert_each_breach_exactly_once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_and_two_workers_never_duplicate_a_breach_a_notice_or_an_email(
        smtp_server, customer, contact, manager, lead, figures):
    start = timezone.now()
    bulk_issues(customer=customer, count=300, opened_at=start - timedelta(days=3), acknowledged_at=start - timedelta(days=3))
    errors: list[BaseException] = []
    everyone_ready = threading.Barrier(4)

    def guarded(work):
        def run() -> None:
            try:
                everyone_ready.wait()
                work()
            except BaseException as error:  # reported below: a thread's failure fails the test
                errors.append(error)
            finally:
                close_old_connections()
        return threading.Thread(target=run)

    def beat() -> None:
        for minute in range(6):
            scan_sla(now=start + timedelta(minutes=minute), batch_size=50)

    def worker() -> None:
        for minute in range(6):
            deliver_due(now=start + timedelta(minutes=minute, seconds=30), batch_size=25)

    threads = [guarded(beat), guarded(beat), guarded(worker), guarded(worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    deliver_due(now=start + timedelta(minutes=10))  # whatever the workers had not reached yet

    assert not errors
    breaches = Counter(Breach.objects.values_list("issue", "clock", "cycle_started_at"))
    notices = Counter(OutboundEmail.objects.filter(kind=EmailKind.BREACHES).values_list("recipient", flat=True))
    automatic = Counter(OutboundEmail.objects.filter(kind=EmailKind.AUTO_STATUS).values_list("issue", "recipient"))
    received = Counter(smtp_server.mailbox.message_ids())
    assert len(breaches) == 300 and set(breaches.values()) == {1}
    # The owner and the lead told of each breach once, in notices listing each scan batch's breaches.
    assert_each_breach_exactly_once(300, owner=manager, lead=lead)
    assert len(automatic) == 300 and set(automatic.values()) == {1}
    assert len(received) == OutboundEmail.objects.count() and set(received.values()) == {1}
    figures.append(f"300 due issues, 2 beats x 6 scans, 2 workers: {sum(breaches.values())} breaches, "
                   f"{sum(notices.values())} notices listing them, {sum(automatic.values())} automatic emails, "
                   f"{sum(received.values())} messages at the SMTP server, "
                   f"{sum(received.values()) - len(received)} duplicates")
