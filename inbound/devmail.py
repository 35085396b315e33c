"""The development mailbox: Inloop's emails to customers, and the customer's side of the conversation.

Under DEBUG only. An answer is written the way a mail client writes one — From the contact, In-Reply-To
the email answered, the original quoted below — and goes through the same pipeline as real mail.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from inbound.forms import DevAnswerForm, NewEmailForm
from issues import selectors
from issues.models import Contact
from notifications.compose import render_rows
from notifications.models import OutboundEmail

SHOWN = 30


def sent_emails(user) -> QuerySet[OutboundEmail]:
    """Emails to contacts of the user's customers, newest first."""
    return (OutboundEmail.objects.filter(contact__customer__in=selectors.visible_customers(user))
            .select_related("contact__customer", "issue").order_by("-created_at", "-pk"))


def sent_email(user, pk: int) -> OutboundEmail:
    row = sent_emails(user).filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def contacts(user) -> QuerySet[Contact]:
    return Contact.objects.filter(customer__in=selectors.visible_customers(user)).select_related("customer") \
        .order_by("customer__name", "name")


def mailbox(user, *, bound: dict | None = None, new_form: NewEmailForm | None = None) -> dict:
    bound = bound or {}
    rows = list(sent_emails(user)[:SHOWN])
    render_rows(rows)  # in memory, one batch: what the customer would read (the demo's history was never sent)
    return {"rows": [(row, bound.get(row.pk) or DevAnswerForm(prefix=f"e{row.pk}")) for row in rows],
            "new_form": new_form or NewEmailForm(contacts=contacts(user))}


def answer(row: OutboundEmail, body: str) -> bytes:
    """The contact's reply to an email of ours, with the original quoted as mail clients do."""
    message = _from_contact(row.contact, subject=row.subject if row.subject.lower().startswith("re:")
                            else f"Re: {row.subject or row.kind}")
    message["To"] = _reply_address(row)
    message["In-Reply-To"] = row.message_id
    message["References"] = " ".join(filter(None, [row.headers.get("References", ""), row.message_id]))
    when = row.sent_at or row.created_at
    quoted = "\n".join(f"> {line}" for line in (row.body_text or "").splitlines())
    message.set_content(f"{body.strip()}\n\nOn {formatdate(when.timestamp())}, Inloop wrote:\n{quoted}\n")
    return bytes(message)


def new_email(contact: Contact, subject: str, body: str) -> bytes:
    message = _from_contact(contact, subject=subject)
    message["To"] = settings.INBOUND_ADDRESS or settings.DEFAULT_FROM_EMAIL
    message.set_content(body.strip() + "\n")
    return bytes(message)


def _from_contact(contact: Contact, *, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((contact.name, contact.email))
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="dev-mailbox.invalid")
    return message


def _reply_address(row: OutboundEmail) -> str:
    return row.headers.get("Reply-To") or settings.INBOUND_ADDRESS or settings.DEFAULT_FROM_EMAIL
