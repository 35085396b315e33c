"""Put emails in the outbox. Called inside the transaction of the change that caused them.

Queueing is a cheap insert: what to say is stored as a small context and rendered by the worker
that first claims the row (see ``notifications.compose``).
"""

from __future__ import annotations

import logging
import threading
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications import tokens
from notifications.addresses import single_line
from notifications.models import OutboundEmail

log = logging.getLogger(__name__)
DELIVER_TASK = "notifications.tasks.deliver_outbox"


@dataclass(frozen=True)
class Email:
    """One email to queue: to whom, in which language, of which kind, about what."""

    recipient: str
    recipient_name: str
    language: str
    kind: str
    dedupe_key: str
    issue_id: int | None = None
    contact_id: int | None = None
    context: dict = field(default_factory=dict)
    # Staff reminders wait for the working day; None means as soon as possible.
    not_before: datetime | None = None


@dataclass
class Hold:
    """While a hold is on, what is queued waits until ``until`` (a quick action's undo window, ``issues.undo``);
    ``keys`` names the rows it held, so the undo can take exactly those back."""

    until: datetime
    keys: list[str] = field(default_factory=list)


_hold: ContextVar[Hold | None] = ContextVar("outbox_hold", default=None)


@contextmanager
def held(*, until: datetime) -> Iterator[Hold]:
    """Hold every email queued inside the block, staff notices included, until ``until``."""
    hold = Hold(until)
    token = _hold.set(hold)
    try:
        yield hold
    finally:
        _hold.reset(token)


def current_hold() -> Hold | None:
    """The hold in force here, if any: other outboxes (webhooks) make their rows wait under the same one."""
    return _hold.get()


def new_message_id(email: Email | None = None) -> str:
    """Unique per email. An email to a contact about an issue starts with its reply token: mail clients
    quote the Message-ID back in In-Reply-To and References, so the answer finds its issue."""
    if email is not None and email.issue_id and email.contact_id:
        return f"<{tokens.make(email.issue_id, email.contact_id)}.{secrets.token_hex(8)}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
    return f"<{secrets.token_hex(16)}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def enqueue(emails: list[Email], *, now: datetime | None = None) -> list[OutboundEmail]:
    """Write the emails to the outbox; a dedupe key already there is skipped, not duplicated.

    Returns the rows this call wrote. After the transaction commits, a worker is nudged so the emails
    leave within seconds.
    """
    if not emails:
        return []
    now = now or timezone.now()
    hold = current_hold()
    keys = [email.dedupe_key[:255] for email in emails]
    existing = set(OutboundEmail.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    # A name becomes one line here, so no header can be smuggled in through it (delivery checks again).
    fresh = [
        OutboundEmail(
            recipient=email.recipient, recipient_name=single_line(email.recipient_name, 200),
            language=email.language, kind=email.kind, issue_id=email.issue_id, contact_id=email.contact_id,
            context=email.context,
            dedupe_key=key, message_id=new_message_id(email), created_at=now,
            next_attempt_at=max(email.not_before or now, hold.until) if hold else email.not_before or now,
        )
        for email, key in zip(emails, keys, strict=True)
        if key not in existing
    ]
    # ignore_conflicts covers a concurrent transaction that wrote the same key since the check above.
    OutboundEmail.objects.bulk_create(fresh, ignore_conflicts=True)
    if fresh and hold:
        hold.keys += [row.dedupe_key for row in fresh]
        transaction.on_commit(lambda: nudge_delivery_at(hold.until))
    elif fresh:
        transaction.on_commit(nudge_delivery)
    return fresh


def nudge_delivery() -> None:
    """Ask a worker to deliver now, from a background thread: the request never waits on the broker.
    If the broker is down the nudge is lost, and the beat sweep delivers the rows a minute later."""
    if settings.OUTBOX_NUDGE_WORKER:
        _nudger.request()


def nudge_delivery_at(moment: datetime) -> None:
    """Nudge a worker once held emails fall due (a timer thread: the request never waits). A lost timer (the
    process ended) is the beat sweep's, within OUTBOX_SWEEP_SECONDS."""
    if not settings.OUTBOX_NUDGE_WORKER:
        return
    timer = threading.Timer(max((moment - timezone.now()).total_seconds(), 0) + 0.5, nudge_delivery)
    timer.daemon = True
    timer.start()


class Nudger:
    """One background thread per process publishes nudges; requests made while it publishes (or
    while a slow, unreachable broker keeps it waiting) fold into one. The broker's socket timeouts
    (settings: CELERY_BROKER_TRANSPORT_OPTIONS) bound each publish, so a silent broker costs the
    thread a few seconds per nudge, never the thread itself."""

    def __init__(self, publish: Callable[[], object] | None = None) -> None:
        # Tests hand in a publish aimed at a broker of their own.
        self._publish = publish or self._ask_a_worker
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _ask_a_worker() -> None:
        # By name: the outbox (inside the request) never imports the worker's side (tasks -> delivery).
        current_app.send_task(DELIVER_TASK, retry=False)

    def request(self) -> None:
        self._wanted.set()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox-nudge", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while self._wanted.wait(timeout=60):
            self._wanted.clear()
            try:
                self._publish()
            except Exception as error:  # the broker may be down in any of a dozen ways; the sweep covers it
                log.warning("outbox: could not nudge a worker (%s); the periodic sweep will deliver", error)


_nudger = Nudger()
