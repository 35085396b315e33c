"""Put emails in the outbox. Called inside the transaction of the change that caused them."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.models import OutboundEmail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Email:
    """One composed email, ready for the outbox."""

    recipient: str
    recipient_name: str
    language: str
    subject: str
    body_text: str
    body_html: str
    kind: str
    dedupe_key: str
    message_id: str
    issue_id: int | None = None
    contact_id: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def enqueue(emails: list[Email], *, now: datetime | None = None) -> list[OutboundEmail]:
    """Write the emails to the outbox; a dedupe key already there is skipped, not duplicated.

    Returns the rows this call wrote. Delivery happens later, in a worker: after the transaction
    commits, a worker is nudged so the emails leave within seconds.
    """
    if not emails:
        return []
    now = now or timezone.now()
    rows = [
        OutboundEmail(
            recipient=email.recipient, recipient_name=email.recipient_name, language=email.language,
            subject=email.subject, body_text=email.body_text, body_html=email.body_html,
            headers=email.headers, kind=email.kind, issue_id=email.issue_id, contact_id=email.contact_id,
            dedupe_key=email.dedupe_key, message_id=email.message_id, created_at=now, next_attempt_at=now,
        )
        for email in emails
    ]
    keys = [row.dedupe_key for row in rows]
    existing = set(OutboundEmail.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    fresh = [row for row in rows if row.dedupe_key not in existing]
    # ignore_conflicts covers a concurrent transaction that wrote the same key since the check above.
    OutboundEmail.objects.bulk_create(fresh, ignore_conflicts=True)
    if fresh:
        transaction.on_commit(nudge_delivery)
    return fresh


def nudge_delivery() -> None:
    """Ask a worker to deliver now, from a background thread: the request never waits on the broker.
    If the broker is down the nudge is lost, and the beat sweep delivers the rows a minute later."""
    if settings.OUTBOX_NUDGE_WORKER:
        _nudger.request()


class Nudger:
    """One background thread per process publishes nudges; requests made while it publishes (or
    while a slow, unreachable broker keeps it waiting) fold into one."""

    def __init__(self) -> None:
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        self._wanted.set()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox-nudge", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        from notifications.tasks import deliver_outbox

        while self._wanted.wait(timeout=60):
            self._wanted.clear()
            try:
                deliver_outbox.apply_async(retry=False)
            except Exception as error:  # the broker may be down in any of a dozen ways; the sweep covers it
                log.warning("outbox: could not nudge a worker (%s); the periodic sweep will deliver", error)


_nudger = Nudger()
