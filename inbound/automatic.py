"""Is a message from a person? Out-of-office replies, lists, bulk mail and bounces are recorded, never
answered (DESIGN.md, "The loop closes").

The signals are the ones RFC 3834 defines and the ones helpdesks learned to read in practice:
``Auto-Submitted``; the vendor ``X-Autoreply`` family; Exchange's ``X-Auto-Response-Suppress`` (its
out-of-office replies carry no Auto-Submitted); ``Precedence: bulk/list/junk``; ``List-Id``; a null
``Return-Path``; the mailer daemon as sender. A bounce is a delivery status notification
(``multipart/report; report-type=delivery-status``, RFC 3464), or one of the older plain-text forms
(Postfix's "Undelivered Mail Returned to Sender", Exim's "Mail delivery failed", qmail's "failure
notice"), read for the failed addresses, their status and the Message-ID of what bounced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from inbound.mime import (
    addresses,
    header_text,
    message_ids,
    normal_address,
    one_line,
    raw_values,
)

DAEMONS = {"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster"}
NO_REPLY = {"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply"}
AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from", "x-mail-autoreply")
BULK = {"bulk", "list", "junk", "auto_reply", "auto-reply"}
AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|auto[- ]?response|out of (the )?office( reply| autoreply)?|"
    r"자동\s?회신|자동\s?응답|부재\s?중)\s*[:：]", re.IGNORECASE)
# Mailer phrasings only: a customer's "Delivery delayed for order 123" must stay a customer's message.
BOUNCE_SUBJECT = re.compile(
    r"^\s*(undelivered mail returned to sender|undeliverable:|undelivered mail:|delivery status notification|"
    r"mail delivery failed|failure notice|returned mail:|delivery has failed|message not delivered|"
    r"delayed mail \(still being retried\)|delivery delayed:|warning: could not send message|메일 전송 실패|"
    r"반송된 메일)", re.IGNORECASE)
DAEMON_NAME = re.compile(r"mail delivery (system|subsystem)|mailer.?daemon", re.IGNORECASE)
# Where the copy of the returned message starts in a plain-text bounce: addresses below it are not the
# ones that failed.
ORIGINAL_MARKER = re.compile(
    r"^\s*(-{2,}\s*)?(this is a copy of the message|original message|below this line is a copy|"
    r"undelivered message|returned message|headers of the original|original message headers)",
    re.IGNORECASE | re.MULTILINE)
ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
SMTP_CODE = re.compile(r"(?<![\d.\w])([45])\d\d(?![\d.\w])")
DELAYED = re.compile(r"delay|will be retried|still being retried|not yet been delivered|warning only",
                     re.IGNORECASE)
ANGLE_RECIPIENT = re.compile(r"^<([^<>\s]+@[^<>\s]+)>:?", re.MULTILINE)
INDENTED_ADDRESS = re.compile(r"^[ \t]{1,8}<?([^<>\s@]+@[^<>\s:]+?)>?:?[ \t]*$", re.MULTILINE)
MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID:[ \t]*(.+)$", re.IGNORECASE | re.MULTILINE)
TEXT_LIMIT = 64 * 1024


@dataclass
class Reports:
    """The machine-readable parts the MIME walk found (it does not open them)."""

    kinds: set[str] = field(default_factory=set)  # e.g. "delivery-status", "disposition-notification"
    delivery_status: list[Message] = field(default_factory=list)
    originals: list[Message] = field(default_factory=list)  # returned messages or their headers


def reason(message: Message, reports: Reports, *, sender: str, subject: str, notes: list[str]) -> str:
    """Why the message is automatic ("" when it looks written by a person)."""
    def value(name: str) -> str:
        return header_text(message, name, notes).lower()

    submitted = value("auto-submitted").split(";")[0].strip()
    if submitted and submitted != "no":
        return f"auto-submitted: {submitted}"
    if any(value(name) not in ("", "no", "false") for name in AUTOREPLY_HEADERS):
        return "x-autoreply"
    if re.search(r"\b(all|oof|autoreply)\b", value("x-auto-response-suppress")):
        return "x-auto-response-suppress"
    if value("list-id"):
        return "list-id"
    if (precedence := value("precedence")) in BULK:
        return f"precedence: {precedence}"
    for kind in ("disposition-notification", "feedback-report", "delivery-status"):
        if kind in reports.kinds:
            return kind
    local = sender.partition("@")[0]
    if local in DAEMONS:
        return "mailer-daemon"
    if BOUNCE_SUBJECT.search(subject):
        return "bounce"  # one we could not read: no failed address, no id of what bounced
    if value("return-path").replace(" ", "") == "<>":
        return "return-path: <>"
    if AUTO_SUBJECT.search(subject):
        return "subject: automatic reply"
    if local in NO_REPLY:
        return "no-reply"
    return ""


def bounce(message: Message, reports: Reports, *, sender: str, sender_name: str, subject: str, text: str,
           notes: list[str]) -> tuple[list[tuple[str, str, str]], str] | None:
    """(failed recipients, Message-ID of what bounced) when the message is a bounce, else None."""
    if reports.delivery_status:
        failed = [row for part in reports.delivery_status for row in _report_rows(part)]
        if failed:
            return failed, _original_id(reports, text)
        if _any_success(reports.delivery_status):
            return None  # a delivery receipt: nothing failed
    looks_like_one = (sender.partition("@")[0] in DAEMONS or DAEMON_NAME.search(sender_name)
                      or BOUNCE_SUBJECT.search(subject) or reports.delivery_status)
    if not looks_like_one:
        return None
    rows, original = _text_rows(message, text, notes), _original_id(reports, text)
    # Without a failed address or the id of what bounced, there is nothing to act on: the message is
    # then only automatic (its sender or subject says so).
    return (rows, original) if rows or original else None


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status part: the per-message block, then one per
    recipient. The email package parses them into sub-messages; when it could not, read the text."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return [block for block in payload if isinstance(block, Message)]
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:  # noqa: BLE001
        return []
    text = data.decode("utf-8", errors="replace")[:TEXT_LIMIT]
    return [HeaderParser(policy=compat32).parsestr(chunk) for chunk in re.split(r"\n\s*\n", text) if chunk.strip()]


def _field(block: Message, name: str) -> str:
    values = raw_values(block, name)
    return one_line(values[0]) if values else ""


def _report_rows(part: Message) -> list[tuple[str, str, str]]:
    rows = []
    for block in _blocks(part):
        recipient = _field(block, "final-recipient") or _field(block, "original-recipient")
        address = _address_of(recipient.partition(";")[2] or recipient)
        action = _field(block, "action").lower()
        status = _status(_field(block, "status"))
        diagnostic = _field(block, "diagnostic-code")
        diagnostic = diagnostic.partition(";")[2].strip() or diagnostic
        if not address or action not in ("failed", "delayed", ""):
            continue
        status = status or _status_in(diagnostic) or {"failed": "5.0.0", "delayed": "4.0.0"}.get(action, "")
        if action or status[:1] in ("4", "5"):
            rows.append((address, status, diagnostic[:500]))
    return rows


def _any_success(parts: list[Message]) -> bool:
    return any(_field(block, "action").lower() in ("delivered", "relayed", "expanded")
               for part in parts for block in _blocks(part))


def _address_of(value: str) -> str:
    return normal_address(value.strip())


def _status(value: str) -> str:
    match = ENHANCED.search(value)
    return ".".join(match.groups()) if match else ""


def _status_in(text: str) -> str:
    if status := _status(text):
        return status
    match = SMTP_CODE.search(text)
    return f"{match.group(1)}.0.0" if match else ""


def _text_rows(message: Message, text: str, notes: list[str]) -> list[tuple[str, str, str]]:
    """Failed recipients of a plain-text bounce: the X-Failed-Recipients header (Exim), then Postfix's
    and qmail's "<address>:" lines and Exim's indented address lines, each with the text below it."""
    notice = text[:TEXT_LIMIT]
    if marker := ORIGINAL_MARKER.search(notice):
        notice = notice[: marker.start()]
    delayed = bool(DELAYED.search(notice))
    starts = sorted([(m.start(), m.end(), m.group(1)) for m in ANGLE_RECIPIENT.finditer(notice)]
                    + [(m.start(), m.end(), m.group(1)) for m in INDENTED_ADDRESS.finditer(notice)])
    rows: dict[str, tuple[str, str, str]] = {}
    for index, (start, end, found) in enumerate(starts):
        following = starts[index + 1][0] if index + 1 < len(starts) else len(notice)
        block = notice[end:following].split("\n\n")[0]
        address = _address_of(found)
        if address and address not in rows:
            diagnostic = one_line(block)[:500]
            status = _status_in(diagnostic) or ("4.0.0" if delayed else "5.0.0")
            rows[address] = (address, status, diagnostic)
    for _name, address in addresses(message, ("x-failed-recipients",), notes):
        rows.setdefault(address, (address, "4.0.0" if delayed else "5.0.0", ""))
    return list(rows.values())


def _original_id(reports: Reports, text: str) -> str:
    for original in reports.originals:
        for value in raw_values(original, "message-id"):
            if ids := message_ids(value):
                return ids[0]
    notice = text[: TEXT_LIMIT * 4]
    marker = ORIGINAL_MARKER.search(notice)
    for match in MESSAGE_ID_LINE.finditer(notice, marker.start() if marker else 0):
        if ids := message_ids(match.group(1)):
            return ids[0]
    return ""
