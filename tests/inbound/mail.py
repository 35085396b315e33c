"""Raw emails as customers' mail clients write them, for the pipeline's stories."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from notifications.models import OutboundEmail


def email_from(address: str, *, name: str = "", subject: str = "Hello", body: str = "Hi there.",
               to: str = "support@inloop.localhost", in_reply_to: str = "", message_id: str | None = None,
               headers: dict | None = None, attachments: list[tuple[str, str, bytes]] = ()) -> bytes:
    message = EmailMessage()
    message["From"] = formataddr((name, address)) if name else address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id if message_id is not None else make_msgid(domain="client.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for header, value in (headers or {}).items():
        message[header] = value
    message.set_content(body)
    for filename, content_type, payload in attachments:
        main, sub = content_type.split("/")
        message.add_attachment(payload, maintype=main, subtype=sub, filename=filename)
    return bytes(message)


def answer_to(row: OutboundEmail, body: str, *, sender: str | None = None, keep_message_id: bool = True,
              keep_reply_to: bool = True, quote: bool = True, headers: dict | None = None,
              subject: str | None = None) -> bytes:
    """A reply to one of our emails, as Gmail writes it: the new text, then the original quoted."""
    row.refresh_from_db()
    quoted = "\n".join(f"> {line}" for line in row.body_text.splitlines()) if quote else ""
    return email_from(
        sender or row.recipient, subject=subject if subject is not None else f"Re: {row.subject}",
        body=f"{body}\n\nOn Sun, 29 Nov 2026 at 15:00, Inloop <support@inloop.localhost> wrote:\n{quoted}\n",
        to=(row.headers.get("Reply-To") if keep_reply_to else "") or "support@inloop.localhost",
        in_reply_to=row.message_id if keep_message_id else "", headers=headers,
    )


def bounce_of(row: OutboundEmail, *, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A delivery status notification (RFC 3464) for one of our emails, as Postfix writes it."""
    boundary = "bounce-boundary-1"
    return f"""From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)
To: support@inloop.localhost
Subject: Undelivered Mail Returned to Sender
Date: {formatdate(localtime=True)}
Message-ID: {make_msgid(domain="mx.customer.example")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=us-ascii

<{row.recipient}>: {status} Recipient address rejected: User unknown

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; {row.recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} User unknown

--{boundary}
Content-Type: text/rfc822-headers

From: support@inloop.localhost
To: {row.recipient}
Subject: {row.subject}
Message-ID: {row.message_id}

--{boundary}--
""".replace("\n", "\r\n").encode()
