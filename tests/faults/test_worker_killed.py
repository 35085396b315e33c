"""A worker killed with SIGKILL three times while it delivers 500 emails: none is lost, and the only
repeats are messages the SMTP server had accepted just before a kill, with the same Message-ID."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from notifications.models import OutboundEmail
from notifications.outbox import Email, enqueue
from tests.faults.services import (
    ROOT,
    app_environment,
    database_url_of_this_run,
    wait_until,
)

KILLS = 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_three_times_loses_no_email(smtp_server, tmp_path, figures):
    enqueue([Email(recipient=f"reader{n}@customer.example.com", recipient_name=f"Reader {n}", language="en",
                   kind="resolved", dedupe_key=f"kill:{n}", context={"body": "Fixed."}) for n in range(500)])
    smtp_server.mailbox.delay = 0.01  # about five seconds of delivery: time to kill a worker mid-batch
    environment = app_environment(database_url=database_url_of_this_run(), broker_url="filesystem://localhost/",
                                  email_port=smtp_server.port, queue="unused")
    environment.update(OUTBOX_LEASE_SECONDS="2", OUTBOX_BATCH_SIZE="50", INLOOP_VAR_DIR=str(tmp_path))
    deliver = [sys.executable, "manage.py", "deliver_outbox"]

    for kill in range(KILLS):
        worker = subprocess.Popen(deliver, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        received_before = len(smtp_server.mailbox.messages)
        assert wait_until(lambda: len(smtp_server.mailbox.messages) >= received_before + 40, 30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    time.sleep(2.5)  # the killed workers' leases run out
    finished = subprocess.run(deliver, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)

    assert finished.returncode == 0, finished.stderr
    received = Counter(smtp_server.mailbox.message_ids())
    queued = set(OutboundEmail.objects.values_list("message_id", flat=True))
    duplicates = sum(received.values()) - len(received)
    assert set(received) == queued  # nothing lost, nothing foreign
    assert duplicates <= KILLS  # at most the one message in flight at each kill
    assert OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).count() == 500
    figures.append(f"500 emails, worker SIGKILLed {KILLS} times mid-delivery: {len(received)} distinct delivered, "
                   f"0 lost, {duplicates} duplicates (same Message-ID)")
