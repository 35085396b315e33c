"""One pipeline behind every way email comes in: store the message once, then act on it.

``receive`` is what the pipe command, the IMAP poller, a provider webhook and the development mailbox
call. Storing commits on its own: a message is on record before anything acts on it, and a crash while
acting leaves it ``received`` for the sweep (``process_pending``) to try again. Acting happens in one
transaction per message, through the same services staff use (``inbound.routing``).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inbound.models import InboundMessage, Outcome, Source
from inbound.parse import parse
from inbound.routing import route

log = logging.getLogger(__name__)
# After this many failed attempts to act on a message, it goes to the unmatched list for a person.
MAX_ATTEMPTS = 5


def receive(raw: bytes, *, source: str = Source.PIPE, now: datetime | None = None) -> InboundMessage:
    """Store the message (once, however often it arrives) and act on it. Raises only when it could not
    be stored, so the caller (a mail server, the IMAP poller) keeps it and tries again."""
    message = store(raw, source=source, now=now)
    if message.outcome == Outcome.RECEIVED:
        process(message.pk, now=now)
        message.refresh_from_db()
    return message


def store(raw: bytes, *, source: str, now: datetime | None = None) -> InboundMessage:
    """Write the message in its own transaction; a message stored before is returned as it is."""
    now = now or timezone.now()
    message_id = _message_id(raw)
    key = f"mid:{message_id}"[:300] if message_id else f"sha256:{hashlib.sha256(raw).hexdigest()}"
    if (stored := InboundMessage.objects.filter(key=key).first()) is not None:
        return stored
    message = InboundMessage(key=key, message_id=message_id[:998], source=source, size=len(raw), received_at=now,
                             raw=raw)
    if len(raw) > settings.INBOUND_MAX_BYTES:
        # Keep the headers as the record of what came; the body is not ours to keep or act on.
        message.raw = _headers_of(raw)
        message.outcome = Outcome.REFUSED
        message.reason = f"too large: {len(raw):,} bytes, the limit is {settings.INBOUND_MAX_BYTES:,}"
        message.processed_at = now
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:  # the same message, stored by another door at the same moment
        return InboundMessage.objects.get(key=key)
    return message


def process(pk: int, *, now: datetime | None = None) -> None:
    """Act on a stored message once. A failure rolls back what it did and counts an attempt."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            message = InboundMessage.objects.select_for_update().get(pk=pk)
            if message.outcome != Outcome.RECEIVED:
                return  # acted on already, by another worker or an earlier run
            route(message, parse(bytes(message.raw)), now=now)
            message.processed_at = now
            message.save()
    except Exception as error:  # noqa: BLE001 - one bad message must not stop the rest
        log.exception("inbound: could not act on message %s", pk)
        _count_failure(pk, error, now=now)


def process_pending(*, now: datetime | None = None, older_than: timedelta = timedelta(minutes=1)) -> int:
    """The sweep: act on messages stored but not acted on (a crash, a failure) a while ago."""
    now = now or timezone.now()
    ids = list(InboundMessage.objects.filter(outcome=Outcome.RECEIVED, received_at__lte=now - older_than)
               .order_by("received_at").values_list("pk", flat=True)[:500])
    for pk in ids:
        process(pk, now=now)
    return len(ids)


def _count_failure(pk: int, error: Exception, *, now: datetime) -> None:
    message = InboundMessage.objects.filter(pk=pk, outcome=Outcome.RECEIVED).first()
    if message is None:
        return
    message.attempts += 1
    message.reason = f"{type(error).__name__}: {error}".replace("\x00", "")[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.outcome = Outcome.UNMATCHED
        message.reason = f"failed: {message.reason}"
        message.processed_at = now
    message.save(update_fields=["attempts", "reason", "outcome", "processed_at"])


def _message_id(raw: bytes) -> str:
    """The Message-ID, read from the headers alone (cheap, and tolerant of any body)."""
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(raw[:256 * 1024]).get("Message-ID", "")
    except Exception:  # noqa: BLE001 - a message whose headers cannot be read is keyed by its bytes
        return ""
    return " ".join(str(value).replace("\x00", "").split()).strip().strip("<>").strip()


def _headers_of(raw: bytes) -> bytes:
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    return raw[: end if 0 <= end < 256 * 1024 else 256 * 1024]
