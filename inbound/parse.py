"""One raw email in, the facts the inbound pipeline needs out. Pure: no database, no settings.

``parse`` never raises, whatever the bytes: Python's ``email`` package (default policy) reads the MIME
structure, compat32 takes over where the default policy gives up, and each header and body is decoded
with charset fallbacks (``inbound.mime``). What was wrong is listed in ``Parsed.defects``. The size of
a message is the pipeline's business (it refuses huge ones before parsing); a big message costs memory
in proportion to its size here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser, HeaderParser
from email.policy import compat32
from email.policy import default as default_policy
from email.utils import collapse_rfc2231_value, parsedate_to_datetime

from inbound import automatic, mime
from inbound.automatic import Reports
from inbound.htmltext import html_to_text
from inbound.quotes import new_text

log = logging.getLogger(__name__)

RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")
MAX_PARTS = 500
MAX_DEPTH = 30
MAX_DELIMITERS = 1000
MAX_BOUNDARIES = 50  # distinct boundaries looked for; real messages nest a handful
BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^";\s]{1,200})', re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    filename: str  # sanitised: no path, no control characters, at most 200 chars; "attachment" if none
    content_type: str
    payload: bytes


@dataclass(frozen=True)
class Bounce:
    recipients: list[tuple[str, str, str]]  # (address lowercased, status like "5.1.1", diagnostic text)
    permanent: bool  # any recipient failed with a 5.x.x status
    original_message_id: str  # Message-ID of the message that bounced, without <>, or ""


@dataclass(frozen=True)
class Parsed:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    sender: str = ""
    sender_name: str = ""
    recipients: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    new_text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    auto: str = ""
    bounce: Bounce | None = None
    defects: list[str] = field(default_factory=list)


@dataclass
class Body:
    """What the MIME walk collects."""

    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    reports: Reports = field(default_factory=Reports)


def parse(raw: bytes) -> Parsed:
    """Never raises: a message that cannot be read at all gives what its headers tell, or nothing."""
    try:
        return _parse(bytes(raw))
    except Exception as error:  # noqa: BLE001 - a message must be recorded whatever it contains
        log.warning("inbound: unreadable message (%s: %s)", type(error).__name__, error)
        return _headers_only(raw, error)


def _parse(raw: bytes) -> Parsed:
    notes: list[str] = []
    message = _message(raw, notes)
    body = _walk(message, notes)
    head = _headers(message, notes)
    text = body.text if body.text.strip() else html_to_text(body.html) or body.text
    found = automatic.bounce(message, body.reports, sender=head.sender, sender_name=head.sender_name,
                             subject=head.subject, text=text, notes=notes)
    bounce = None if found is None else Bounce(
        recipients=found[0], permanent=any(status.startswith("5") for _a, status, _t in found[0]),
        original_message_id=found[1])
    auto = "bounce" if bounce else automatic.reason(message, body.reports, sender=head.sender,
                                                    subject=head.subject, notes=notes)
    return Parsed(
        **vars(head), text=text, new_text=new_text(body.text, body.html), html=body.html,
        attachments=body.attachments, auto=auto, bounce=bounce, defects=_defects(message, notes))


def _message(raw: bytes, notes: list[str]) -> Message:
    raw = _bounded(raw, notes)
    try:
        return BytesParser(policy=default_policy).parsebytes(raw)
    except Exception as error:  # noqa: BLE001
        notes.append(f"default policy failed ({type(error).__name__}); parsed as compat32")
        return BytesParser(policy=compat32).parsebytes(raw)


def _bounded(raw: bytes, notes: list[str]) -> bytes:
    """The message up to its MAX_DELIMITERS-th MIME boundary line. The email package spends about a
    millisecond on each part under the default policy, so a message of many tiny parts would take
    minutes; no real message has that many."""
    boundaries = list(dict.fromkeys(BOUNDARY.findall(raw)))[:MAX_BOUNDARIES]
    positions: list[int] = []
    for boundary in boundaries:
        start = raw.find(b"\n--" + boundary)
        while start >= 0 and len(positions) <= 2 * MAX_DELIMITERS:
            positions.append(start)
            start = raw.find(b"\n--" + boundary, start + 1)
    if len(positions) <= MAX_DELIMITERS:
        return raw
    cut = sorted(positions)[MAX_DELIMITERS]
    notes.append(f"more than {MAX_DELIMITERS} MIME boundaries: read up to byte {cut:,}")
    return raw[:cut]


@dataclass
class Head:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    sender: str = ""
    sender_name: str = ""
    recipients: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None


def _headers(message: Message, notes: list[str]) -> Head:
    head = Head(subject=mime.header_text(message, "subject", notes), date=_date(message))
    if senders := mime.addresses(message, ("from",), notes):
        head.sender_name, head.sender = senders[0]
    head.recipients = list(dict.fromkeys(address for _name, address in
                                         mime.addresses(message, RECIPIENT_HEADERS, notes)))
    if values := mime.raw_values(message, "message-id"):
        ids = mime.message_ids(values[0])
        head.message_id = ids[0] if ids else mime.one_line(values[0]).strip("<> ").replace(" ", "")[:998]
    head.in_reply_to = mime.message_ids(" ".join(mime.raw_values(message, "in-reply-to")))
    head.references = mime.message_ids(" ".join(mime.raw_values(message, "references")))
    return head


def _date(message: Message) -> datetime | None:
    values = mime.raw_values(message, "date")
    try:
        date = parsedate_to_datetime(mime.one_line(values[0])) if values else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" means UTC with no local time known (RFC 5322 3.3); the parser leaves it naive.
    return date.replace(tzinfo=UTC) if date is not None and date.tzinfo is None else date


def _walk(message: Message, notes: list[str]) -> Body:
    """Body text, HTML and attachments, in document order, without opening attached messages (a
    bounce's returned message is not this message's text)."""
    body = Body()
    stack: list[tuple[Message, int, str]] = [(message, 0, "")]
    seen = 0
    while stack:
        part, depth, parent = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            notes.append(f"more than {MAX_PARTS} MIME parts: the rest ignored")
            break
        kind = _content_type(part)
        if kind.startswith("multipart/") and isinstance(part.get_payload(), list):
            if depth >= MAX_DEPTH:
                notes.append("MIME parts nested too deep: the inner ones ignored")
                continue
            if kind == "multipart/report":
                body.reports.kinds.add(str(_param(part, "report-type")).lower())
            children = [child for child in part.get_payload() if isinstance(child, Message)]
            stack.extend((child, depth + 1, kind) for child in reversed(children))
            continue
        _leaf(part, kind, parent, body, notes)
    return body


def _leaf(part: Message, kind: str, parent: str, body: Body, notes: list[str]) -> None:
    if kind in ("message/delivery-status", "message/global-delivery-status"):
        body.reports.kinds.add("delivery-status")
        body.reports.delivery_status.append(part)
        return
    if kind in ("message/disposition-notification", "message/feedback-report"):
        body.reports.kinds.add(kind.partition("/")[2])
        return
    if kind == "text/rfc822-headers":
        body.reports.originals.append(HeaderParser(policy=compat32).parsestr(_text(part, notes)[:256 * 1024]))
        return
    if kind in ("message/rfc822", "message/global") and isinstance(part.get_payload(), list):
        inner = part.get_payload()[0]
        body.reports.originals.append(inner)
        body.attachments.append(Attachment(mime.filename(part, notes), kind, _message_bytes(inner)))
        return
    if kind.startswith("multipart/"):  # no boundary to split on: read it as the text it is
        _body_text(part, "text/plain", parent, body, notes)
        return
    if kind in ("text/plain", "text/html") and not _is_attachment(part):
        _body_text(part, kind, parent, body, notes)
        return
    body.attachments.append(Attachment(mime.filename(part, notes), kind, _payload(part, notes)))


def _body_text(part: Message, kind: str, parent: str, body: Body, notes: list[str]) -> None:
    text = _text(part, notes).replace("\r\n", "\n")
    if kind == "text/html":
        body.html = body.html or text
    elif not body.text:
        body.text = text
    elif parent == "multipart/mixed":
        body.text = f"{body.text}\n{text}"  # Apple Mail splits the text around an inline image


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment" or bool(part.get_filename())
    except Exception:  # noqa: BLE001
        return True


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001 - an unparseable Content-Type: read its first word as compat32 would
        values = mime.raw_values(part, "content-type")
        kind = values[0].split(";")[0].strip().lower() if values else ""
        return kind if kind.count("/") == 1 and " " not in kind else "text/plain"


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:  # noqa: BLE001
        return ""
    return collapse_rfc2231_value(value) if value else ""


def _payload(part: Message, notes: list[str]) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as error:  # noqa: BLE001
        notes.append(f"undecodable part ({type(error).__name__})")
        return b""
    return data if isinstance(data, bytes) else b""


def _text(part: Message, notes: list[str]) -> str:
    return mime.decode_bytes(_payload(part, notes), _param(part, "charset") or None, notes)


def _message_bytes(inner: Message) -> bytes:
    try:
        return inner.as_bytes(policy=compat32)
    except Exception:  # noqa: BLE001
        return b""


def _defects(message: Message, notes: list[str]) -> list[str]:
    found: list[str] = []
    stack = [message]
    while stack and len(found) < 100:
        part = stack.pop()
        found.extend(type(defect).__name__ for defect in getattr(part, "defects", []))
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list) and len(stack) < MAX_PARTS:
            stack.extend(child for child in payload if isinstance(child, Message))
    return list(dict.fromkeys(found + notes))


def _headers_only(raw: bytes, error: Exception) -> Parsed:
    """What the headers say, for a message whose body could not be read."""
    reason = f"unparseable message: {type(error).__name__}"
    try:
        notes: list[str] = [reason]
        message = BytesHeaderParser(policy=compat32).parsebytes(bytes(raw)[:256 * 1024])
        head = _headers(message, notes)
        return Parsed(**vars(head), defects=list(dict.fromkeys(notes)))
    except Exception:  # noqa: BLE001
        return Parsed(defects=[reason])
