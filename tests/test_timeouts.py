"""Nothing waits forever: a broker or a mail server that takes the connection and then says nothing costs
a few seconds, /healthz still answers within two, and the email waits for a later try.

The silent server below is the failure a load balancer, a half-dead Redis or a stuck mail relay produces:
the TCP connection opens, and no byte ever comes back. A refused connection fails fast on its own.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from celery import Celery

from issues.scan import scan_sla
from notifications.delivery import deliver_due
from notifications.models import OutboundEmail
from notifications.outbox import Email, Nudger, enqueue
from tracker.env import broker_transport_options

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
MARGIN = 1.5  # seconds of slack for a busy CI machine, on top of the timeout being tested


class SilentServer:
    """Accepts every connection on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # the listener was closed: the test is over
                return
            self.held.append(conn)

    @property
    def accepted(self) -> int:
        return len(self.held)

    def stop(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    server.thread.start()
    yield server
    server.stop()


def redis_at(server: SilentServer, settings) -> str:
    """Point Celery at the silent server with the transport options production would use for that URL
    (settings are built at import, from the environment: the same function builds them here)."""
    url = f"redis://127.0.0.1:{server.port}/0"
    settings.CELERY_BROKER_URL = url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(url, settings.VAR_DIR / "broker")
    return url


def celery_from_settings(monkeypatch) -> Celery:
    """A Celery app configured exactly as tracker/celery.py configures ours, from the settings as they
    are now (our app read them once, at its first use)."""
    # Celery takes the environment's CELERY_BROKER_URL before any setting (CI's run sets it).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    app = Celery("timeout-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    return app


def finishes_within(seconds: float, work: Callable[[], object]) -> BaseException | None:
    """Run `work` in a thread; fail the test if it is still running after `seconds` (a hang is the bug,
    so the test must not hang with it). Returns what it raised."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            work()
            outcome.append(None)
        except BaseException as error:  # handed back to the test to look at
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still waiting after {seconds} s"
    return outcome[0]


# --- /healthz -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.timeout(20)  # before the fix the probe waited forever: fail, don't hang
def test_healthz_answers_within_two_seconds_when_the_broker_takes_the_connection_and_never_answers(
        client, settings, silent_server):
    scan_sla()
    redis_at(silent_server, settings)

    started = time.monotonic()
    response = client.get("/healthz")

    assert time.monotonic() - started < 2
    assert silent_server.accepted >= 1  # the probe really went to the silent broker
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["broker"]) == ("degraded", "ok", "timeout")


# --- SMTP -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.timeout(20)
def test_a_mail_server_that_never_greets_costs_one_email_timeout_and_the_email_is_tried_again_later(
        settings, silent_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 1
    enqueue([Email(recipient="grace@acme.example.com", recipient_name="Grace Hopper", language="en",
                   kind="resolved", dedupe_key="silent:1", context={"body": "Fixed"})], now=T0)

    started = time.monotonic()
    sent = deliver_due(now=T0)

    assert time.monotonic() - started < settings.EMAIL_TIMEOUT + MARGIN
    assert sent == 0 and silent_server.accepted == 1
    row = OutboundEmail.objects.get(dedupe_key="silent:1")
    assert (row.status, row.attempts) == (OutboundEmail.Status.PENDING, 1)
    assert row.next_attempt_at > T0 and "timed out" in row.last_error


# --- publishing to the broker ---------------------------------------------------------------------


def test_a_task_published_to_a_broker_that_never_answers_gives_up_within_the_broker_timeouts(
        settings, silent_server, monkeypatch):
    redis_at(silent_server, settings)

    # With production's options: a 3 s read timeout, new attempts only within the first 2 s, one retry.
    error = finishes_within(5 + MARGIN,
                            lambda: celery_from_settings(monkeypatch).send_task("notifications.tasks.deliver_outbox"))

    assert error is not None and "Timeout" in str(error)
    assert silent_server.accepted >= 1


def test_a_nudge_never_holds_the_request_and_the_nudger_tries_again_after_a_silent_broker(
        settings, silent_server, caplog, monkeypatch):
    redis_at(silent_server, settings)
    # The test above holds production's timeouts to account; shorter ones keep this story quick.
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "socket_timeout": 0.5}
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 0.5
    app = celery_from_settings(monkeypatch)
    nudger = Nudger(publish=lambda: app.send_task("notifications.tasks.deliver_outbox", retry=False))
    bound = 0.5 + 0.5

    with caplog.at_level(logging.WARNING, logger="notifications.outbox"):
        for attempt in (1, 2):
            started = time.monotonic()
            nudger.request()
            assert time.monotonic() - started < 0.5  # the request goes on at once
            wait_for(lambda: len(given_up(caplog)) == attempt, seconds=bound + MARGIN)

    assert silent_server.accepted >= 2  # the second nudge went out: the thread was not stuck on the first


def given_up(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "could not nudge a worker" in r.getMessage()]


def wait_for(condition: Callable[[], bool], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.05)
