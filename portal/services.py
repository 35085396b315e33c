"""What a customer does on their page, through the same doors as everyone else.

- **An answer** is an email in all but transport: it is written as the message a mail client would send
  (from the contact, answering the issue's thread with its reply token, the files attached) and handed to
  the inbound pipeline under its own source ("page"). So it is stored once before anything acts on it (a
  second sending of the same form has the same Message-ID, made of the contact and the form's one-time token,
  and is the same stored message), its files are kept as inbound attachments, and it is acted on by the very
  path of an emailed answer (``inbound.routing`` → ``issues.conversation.receive_customer_message``): it
  ends waiting on the customer, reopens a recently resolved issue, starts the response clock and tells the
  owner. The copy to the contact's own address is queued with the stored message, in its transaction.
- **A deadline** is ``issues.services.set_deadline`` with the contact as the actor.
- **Fresh links** go only to a contact's own address.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbound import pipeline
from inbound.models import Outcome, Source
from issues.models import Contact, Issue
from notifications import emails, links, tokens
from portal import selectors


def answer(*, issue: Issue, contact: Contact, body: str, files: list[UploadedFile], token: str | None,
           now: datetime | None = None) -> Issue:
    """The contact's answer, from their page. Returns the issue it landed on: this one, or the new one that
    follows it when this one was closed (or resolved too long ago), as for an emailed answer."""
    now = now or timezone.now()
    raw = as_email(issue, contact, body=body, files=files, token=token, now=now)
    if len(raw) > settings.INBOUND_MAX_BYTES:
        raise ValidationError({"files": _("Your files are too large together: send fewer, or smaller ones.")})
    with transaction.atomic():
        message = pipeline.store(raw, source=Source.PAGE, now=now)
        emails.page_copy(issue, contact, cause=f"answer:{message.pk}", now=now,
                         context={"action": "answer", "text": body, "files": [item.name for item in files]})
    if message.outcome == Outcome.RECEIVED:
        pipeline.process(message.pk, now=now)
        message.refresh_from_db()
    return message.issue or issue


def as_email(issue: Issue, contact: Contact, *, body: str, files: list[UploadedFile], token: str | None,
             now: datetime) -> bytes:
    """The answer as the email a mail client would have sent: the reply token in References finds the issue."""
    reply_token = tokens.make(issue.pk, contact.pk)
    domain = settings.EMAIL_MESSAGE_ID_DOMAIN
    message = EmailMessage()
    message["From"] = formataddr((contact.name, contact.email))
    message["To"] = tokens.reply_address(reply_token) or settings.INBOUND_ADDRESS or settings.DEFAULT_FROM_EMAIL
    message["Subject"] = f"Re: [{issue.reference}] {issue.title}"
    message["Date"] = format_datetime(now)
    once = token or uuid.uuid4().hex  # a form that lost its token: each sending counts
    message["Message-ID"] = f"<page.{contact.pk}.{once}@{domain}>"
    message["References"] = f"<{reply_token}.page@{domain}>"
    message.set_content(body or "")
    for item in files:
        maintype, _slash, subtype = (item.content_type or "application/octet-stream").partition("/")
        item.seek(0)
        message.add_attachment(item.read(), maintype=maintype or "application",
                               subtype=subtype or "octet-stream", filename=item.name)
    return bytes(message)


def send_fresh_links(*, address: str, now: datetime | None = None) -> int:
    """Whoever typed this address gets nothing back but the same sentence; the address itself, if it is a
    reachable contact's, gets fresh links to that contact's open issues and those resolved recently enough for
    their links to work. Once per address and hour (the email's key). Returns how many emails were queued."""
    now = now or timezone.now()
    queued = 0
    contacts = Contact.objects.reachable().filter(email__iexact=address.strip()).select_related("customer")
    for contact in contacts:
        issues = selectors.linkable(contact, now=now).select_related("customer").order_by("-created_at")[:50]
        lines = [{"reference": issue.reference, "title": issue.title, "status": issue.status,
                  "url": links.customer_page_link(issue.pk, contact.pk, address=contact.email,
                                                  generation=contact.page_links_generation)}
                 for issue in issues]
        with transaction.atomic():
            queued += emails.fresh_links(contact, lines, address=address, now=now)
    return queued


def page_link(issue_id: int, contact: Contact) -> str:
    """The path of an issue's page for this contact, at their current address (the link a visit came by)."""
    return links.customer_page_path(issue_id, contact.pk, address=contact.email,
                                    generation=contact.page_links_generation)

