"""Redis down for a minute while account managers post 200 updates: every request succeeds quickly, and
every resulting email is delivered exactly once after Redis is back."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from notifications.models import OutboundEmail
from tests.factories import make_issue
from tests.faults.services import (
    ROOT,
    Browser,
    PrivateRedis,
    WebApp,
    app_environment,
    database_url_of_this_run,
    give_password,
    wait_until,
)

UPDATES = 200
OUTAGE_SECONDS = 60


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_costs_no_request_and_no_email(smtp_server, customer, contact, manager, tmp_path, figures,
                                                      settings):
    from django.utils import timezone

    give_password(manager, "a long and unusual passphrase", settings)
    issues = [make_issue(customer=customer, at=timezone.now(), owner=manager, title=f"Outage {n}") for n in range(20)]
    OutboundEmail.objects.all().delete()  # count only the updates' emails
    redis = PrivateRedis(tmp_path)
    redis.start()
    environment = app_environment(database_url=database_url_of_this_run(), broker_url=redis.url,
                                  email_port=smtp_server.port, queue=f"fault-{uuid.uuid4().hex}")
    web = WebApp(environment, tmp_path / "web.log")
    web.start()
    workers: list[subprocess.Popen] = []
    try:
        browser = Browser(web.url)
        browser.log_in(manager.username, "a long and unusual passphrase")
        redis.stop()
        outage_started = time.monotonic()
        answers = []
        for number in range(UPDATES):
            issue = issues[number % len(issues)]
            answers.append(browser.request(f"/issues/{issue.pk}/update/", {"update-body": f"Update {number}"}))
            time.sleep(max(0.0, (number + 1) * OUTAGE_SECONDS / UPDATES - (time.monotonic() - outage_started)))
        redis.start()
        celery = str(Path(sys.executable).with_name("celery"))
        sweeping = {**environment, "OUTBOX_SWEEP_SECONDS": "2", "INLOOP_VAR_DIR": str(tmp_path)}
        workers = [subprocess.Popen([celery, "-A", "tracker", *command], cwd=ROOT, env=sweeping,
                                    stdout=(tmp_path / f"{command[0]}.log").open("w"), stderr=subprocess.STDOUT)
                   for command in (["worker", "--concurrency=1"], ["beat", f"--schedule={tmp_path / 'beat'}"])]
        queued = OutboundEmail.objects.count
        delivered = wait_until(lambda: queued() >= UPDATES and not OutboundEmail.objects.exclude(
            status=OutboundEmail.Status.SENT).exists(), 90, pause=0.5)
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=30)
        web.stop()
        redis.stop()

    errors = [answer for answer in answers if answer.status != 200]
    slowest = max(answer.seconds for answer in answers)
    received = Counter(smtp_server.mailbox.message_ids())
    assert not errors, [(answer.status, answer.body[:300]) for answer in errors[:3]]
    assert slowest < 2.0
    assert delivered, (tmp_path / "worker.log").read_text()[-2000:]
    assert set(received) == set(OutboundEmail.objects.values_list("message_id", flat=True))
    assert len(received) == UPDATES and set(received.values()) == {1}
    latencies = sorted(answer.seconds for answer in answers)
    figures.append(f"Redis down {OUTAGE_SECONDS} s, {UPDATES} updates posted: {len(errors)} errors, "
                   f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, slowest {slowest * 1000:.0f} ms; "
                   f"after: {len(received)} emails delivered once each, {sum(received.values()) - len(received)} "
                   f"duplicates")
