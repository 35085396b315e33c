"""The ways in: a mail server's pipe, the IMAP mailbox, and what our own emails carry so answers find home."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from inbound.models import InboundMessage, Outcome
from inbound.tasks import poll_mailbox
from issues import services
from issues.models import EventKind, IssueEvent, Status
from notifications import tokens
from notifications.delivery import deliver_due
from notifications.models import OutboundEmail
from tests.factories import make_issue, wait_on_customer
from tests.imapserver import dovecot, imap_server  # noqa: F401  (fixtures)
from tests.inbound.mail import answer_to, email_from

ROOT = Path(__file__).resolve().parents[2]
EX_TEMPFAIL = 75


@pytest.fixture
def acknowledged_issue(db, customer, contact, manager, settings):
    settings.INBOUND_ADDRESS = "support@inloop.localhost"
    issue = make_issue(customer=customer, at=timezone.now() - timedelta(hours=2), reporter=contact, owner=manager)
    services.acknowledge(issue=issue, by=manager)
    return issue


# --- what our emails carry ------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_customer_email_carries_its_reply_token_three_ways_and_says_what_it_is(acknowledged_issue, contact,
                                                                                     smtp_server):
    deliver_due()

    [sent] = smtp_server.mailbox.to(contact.email)
    token = tokens.make(acknowledged_issue.pk, contact.pk)
    assert sent["Message-ID"].strip().startswith(f"<{token}.")
    assert sent["Reply-To"] == f"support+{token}@inloop.localhost"
    assert f"[ref:{token}]" in sent.get_body(("plain",)).get_content()
    assert sent["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert sent["Auto-Submitted"] is None  # a person acknowledged it: not an automatic email


@pytest.mark.django_db
def test_notices_say_they_are_generated_and_receipts_that_they_are_replies(customer, contact, manager):
    from inbound.pipeline import receive

    receive(email_from(contact.email, subject="New problem"))
    deliver_due()

    headers = {row.kind: row.headers for row in OutboundEmail.objects.all()}
    assert headers["receipt"]["Auto-Submitted"] == "auto-replied"
    assert all(value["X-Auto-Response-Suppress"] == "OOF, AutoReply" for value in headers.values())
    staff = [value for kind, value in headers.items() if kind not in {"receipt"}]
    assert staff and all(value["Auto-Submitted"] == "auto-generated" for value in staff)


# --- the pipe ---------------------------------------------------------------------------------------


def run_receive_email(raw: bytes, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings", **env}
    return subprocess.run([sys.executable, "manage.py", "receive_email"], input=raw, cwd=ROOT, env=environment,
                          capture_output=True, timeout=60)


@pytest.mark.postgres  # the command runs in its own process: the suite's in-memory SQLite is not shared
@pytest.mark.django_db(transaction=True)
def test_the_pipe_stores_a_message_and_exits_0(acknowledged_issue, contact):
    deliver_due()
    raw = answer_to(OutboundEmail.objects.filter(contact=contact).latest("pk"), "Piped in.")

    db = connection.settings_dict  # the test database, which the command's own process must use too
    result = run_receive_email(raw, DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
                               if connection.vendor == "postgresql" else f"sqlite:///{db['NAME']}")

    assert result.returncode == 0, result.stderr
    assert InboundMessage.objects.get().outcome == Outcome.CUSTOMER_MESSAGE


def test_the_pipe_says_try_again_later_when_it_cannot_store(tmp_path):
    """The mail server keeps the message and retries (75, EX_TEMPFAIL) instead of bouncing it."""
    unreachable = f"sqlite:///{tmp_path}/no/such/folder/db.sqlite3"

    result = run_receive_email(email_from("grace@acme.example.com"), DATABASE_URL=unreachable)

    assert result.returncode == EX_TEMPFAIL
    assert b"try again later" in result.stderr


# --- the IMAP mailbox ---------------------------------------------------------------------------------


@pytest.mark.imap
@pytest.mark.django_db(transaction=True)
def test_answers_fetched_from_a_real_mailbox_land_once_even_when_fetched_again(acknowledged_issue, contact, manager,
                                                                               imap_server, settings):  # noqa: F811
    settings.INBOUND_IMAP_URL = imap_server.url
    wait_on_customer(acknowledged_issue, by=manager)
    deliver_due()
    row = OutboundEmail.objects.filter(contact=contact).latest("pk")
    imap_server.append(answer_to(row, "Here is what you asked for."))
    imap_server.append(email_from(contact.email, subject="A second problem", body="The printer too."))
    imap_server.append(email_from("stranger@nowhere.example", subject="Hello?"))

    first = poll_mailbox()
    again = poll_mailbox()

    assert (first.fetched, first.stored, first.failed) == (3, 3, 0) and again.fetched == 0
    outcomes = sorted(InboundMessage.objects.values_list("outcome", flat=True))
    assert outcomes == sorted([Outcome.CUSTOMER_MESSAGE, Outcome.NEW_ISSUE, Outcome.UNMATCHED])
    assert IssueEvent.objects.filter(issue=acknowledged_issue, kind=EventKind.CUSTOMER_MESSAGE).count() == 1
    acknowledged_issue.refresh_from_db()
    assert acknowledged_issue.status == Status.IN_PROGRESS


@pytest.mark.imap
@pytest.mark.django_db(transaction=True)
def test_a_message_fetched_again_after_a_crash_is_recorded_once(contact, imap_server, settings):  # noqa: F811
    from inbound.imap import fetch_new
    from inbound.pipeline import receive

    imap_server.append(email_from(contact.email, subject="Crash between store and flag"))

    def store_then_crash(raw: bytes):
        receive(raw)
        raise KeyboardInterrupt  # the worker dies before the message is flagged

    with pytest.raises(KeyboardInterrupt):
        fetch_new(url=imap_server.url, store=store_then_crash)
    result = fetch_new(url=imap_server.url, store=receive)

    assert result.fetched == 1 and InboundMessage.objects.count() == 1
    assert InboundMessage.objects.get().outcome == Outcome.NEW_ISSUE


def test_sent_messages_parse_back(acknowledged_issue):
    """Guard for the helpers above: a message we build reads back with the same headers."""
    raw = email_from("a@b.example", subject="x", in_reply_to="<m@inloop.localhost>")
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["In-Reply-To"] == "<m@inloop.localhost>"
