"""One outbox row on the wire: build the message, hand it to the relay, and say what an error means.

Everything here is about a single email. Whatever goes wrong is classified into a ``Fate``, so the batch
around it (``notifications.delivery``) always knows what to do next and never stops on an exception.
"""

from __future__ import annotations

import enum
import logging
import smtplib
import socket
from email import policy
from email.headerregistry import Address
from email.parser import BytesParser

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address

from notifications.addresses import Mailbox, Undeliverable, mailbox, single_line
from notifications.models import OutboundEmail

log = logging.getLogger(__name__)


class Fate(enum.Enum):
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"  # this email can never go as it is: it fails now, with the reason
    RETRY = "retry"  # this email, later; the connection is fine for the others
    CONNECTION = "connection"  # the line or the relay failed: this email later, the rest of the batch untried


def attempt(smtp: BaseEmailBackend, row: OutboundEmail) -> tuple[Fate, Exception | None]:
    """Build and send one row. Any exception becomes this row's fate, never the batch's."""
    try:
        transmit(smtp, row)
    except Exception as error:  # an unencodable header is as much this row's problem as a refusal
        return classify(error), error
    return Fate.SENT, None


def transmit(smtp: BaseEmailBackend, row: OutboundEmail) -> None:
    """Send one row or raise: Undeliverable for what no retry changes, the relay's own errors as they come."""
    to = mailbox(row.recipient)
    message = build_message(row, smtp, to)
    if isinstance(smtp, SMTPBackend):
        over_smtp(smtp.connection, message, to)
    elif to.needs_smtputf8:  # the console, file and memory backends of development and tests
        raise Undeliverable(f"the address {row.recipient!r} has a non-ASCII local part: only an SMTP relay "
                            "offering SMTPUTF8 can carry it")
    else:
        smtp.send_messages([message])


def over_smtp(relay: smtplib.SMTP, message: EmailMultiAlternatives, to: Mailbox) -> None:
    """What Django's SMTP backend does for one message, plus what it cannot: SMTPUTF8 for a non-ASCII
    local part, and a message over the relay's advertised SIZE refused before a byte of it is sent."""
    relay.ehlo_or_helo_if_needed()
    if to.needs_smtputf8 and not relay.has_extn("smtputf8"):
        raise Undeliverable(f"the address {to.addr_spec!r} has a non-ASCII local part and the relay does not "
                            "offer SMTPUTF8")
    data = wire_bytes(message, to)
    limit = relay.esmtp_features.get("size", "")
    if limit.isdigit() and 0 < int(limit) < len(data):
        raise Undeliverable(f"the email is {len(data)} bytes, too large for the relay, which accepts at most "
                            f"{limit} (SIZE)")
    sender = sanitize_address(message.from_email, message.encoding or settings.DEFAULT_CHARSET)
    try:
        relay.sendmail(sender, [to.addr_spec], data, mail_options=["SMTPUTF8"] if to.needs_smtputf8 else [])
    except (smtplib.SMTPException, OSError):
        raise  # smtplib has reset the conversation after a refusal, or the line is gone
    except Exception:
        _reset(relay)  # our own error midway (after MAIL FROM): the next email must start clean
        raise


def build_message(row: OutboundEmail, smtp: BaseEmailBackend, to: Mailbox) -> EmailMultiAlternatives:
    """The name and subject are made one line again here: rows queued before names were cleaned at the
    door, or edited since, must not add a header either."""
    name = single_line(row.recipient_name, 200)
    message = EmailMultiAlternatives(
        subject=single_line(row.subject), body=row.body_text, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[str(Address(display_name=name, username=to.local_part, domain=to.domain))],
        reply_to=settings.EMAIL_REPLY_TO or None, headers={"Message-ID": row.message_id, **row.headers},
        connection=smtp,
    )
    message.attach_alternative(row.body_html, "text/html")
    return message


def wire_bytes(message: EmailMultiAlternatives, to: Mailbox) -> bytes:
    """The message as the relay receives it. Django writes headers for 7-bit relays; an address whose local
    part is not ASCII goes by SMTPUTF8, where the To header carries it as it is (RFC 6532)."""
    data = message.message().as_bytes(linesep="\r\n")
    if not to.needs_smtputf8:
        return data
    utf8 = BytesParser(policy=policy.SMTPUTF8).parsebytes(data)
    display_name = utf8["To"].addresses[0].display_name if utf8["To"].addresses else ""
    utf8.replace_header("To", Address(display_name=display_name, username=to.local_part, domain=to.domain))
    return utf8.as_bytes()


def classify(error: Exception) -> Fate:
    """Permanent (5xx, or the email cannot be built) fails the row; 4xx retries the row; a broken line, a
    timeout or a server closing the session (421) retries the row and hands the rest of the batch back."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        if 421 in codes:
            return Fate.CONNECTION  # the server is closing the session, whoever the recipient
        return Fate.UNDELIVERABLE if all(code >= 500 for code in codes) else Fate.RETRY
    if isinstance(error, smtplib.SMTPSenderRefused):
        # 552 answers the SIZE we declared (RFC 1870): this email is too large. Anything else is about our
        # own From address, which every email of the batch shares: they wait, nobody fails for it.
        return Fate.UNDELIVERABLE if error.smtp_code == 552 else Fate.CONNECTION
    if isinstance(error, smtplib.SMTPHeloError) or getattr(error, "smtp_code", None) == 421:
        return Fate.CONNECTION
    if isinstance(error, smtplib.SMTPResponseException):  # the message refused after its data
        return Fate.UNDELIVERABLE if error.smtp_code >= 500 else Fate.RETRY
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return Fate.UNDELIVERABLE
    if isinstance(error, (OSError, smtplib.SMTPException)):
        return Fate.CONNECTION
    return Fate.UNDELIVERABLE  # Undeliverable, or a header that cannot be encoded: the same next time


def describe(error: BaseException) -> str:
    """The reason kept on the row and shown in the admin."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{address}: {code} {text.decode(errors='replace')}"
                         for address, (code, text) in error.recipients.items())
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}"
    if isinstance(error, socket.timeout):
        return "timed out talking to the SMTP server"
    return f"{type(error).__name__}: {error}"


def _reset(relay: smtplib.SMTP) -> None:
    try:
        relay.rset()
    except (smtplib.SMTPException, OSError):
        pass  # the line is gone: the next email finds out and hands the batch back
