"""What a stored message means, and which service acts on it.

The order (README, "Two-way email"):
1. our own email coming back, and bounces, are recorded and never answered;
2. the issue is found by the signed reply token (References/In-Reply-To, the plus address, the body),
   else by the subject tag ``[ACME-42]`` **and** a sender who is a contact of that issue's customer —
   never by subject alone;
3. automatic mail (out-of-office, lists, bulk) is a system line on the issue, or just recorded;
4. a contact's answer is a customer message on the issue; someone else answering with a valid token is
   shown on the issue for staff to accept; a contact of another customer is unmatched;
5. a known contact writing without a token opens an issue (unless they are looping);
6. anyone else waits in the unmatched list of the team the address points to (or the admins').
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.db.models import Q

from inbound.models import InboundAttachment, InboundMessage, Outcome, Source
from inbound.parse import Parsed
from issues import conversation
from issues.models import Contact, Issue, Team
from notifications import tokens
from notifications.models import OutboundEmail

SUBJECT_TAG = re.compile(r"\[([A-Z][A-Z0-9]{1,9})-(\d{1,18})\]")


def route(message: InboundMessage, parsed: Parsed, *, now: datetime) -> None:
    """Decide and act; sets the message's outcome, issue, contact, team and reason (the caller saves)."""
    parsed = without_nul(parsed)
    message.sender, message.sender_name = parsed.sender[:320], parsed.sender_name[:200]
    message.subject, message.text = parsed.subject[:300], parsed.new_text
    if _is_ours(parsed):
        return _done(message, Outcome.OURS, "our own email came back")
    if parsed.bounce is not None:
        return _bounce(message, parsed, now=now)
    issue, via_token = _find_issue(parsed)
    if issue is not None:
        message.team_id = issue.customer.team_id
    if parsed.auto:
        if issue is not None:
            message.issue = issue
            conversation.note_inbound(issue=issue, kind="automatic", sender=parsed.sender, subject=parsed.subject,
                                      at=message.received_at, inbound_id=message.pk)
        return _done(message, Outcome.AUTOMATIC, parsed.auto)
    files = keep_attachments(message, parsed)
    contact = _contact_of(issue.customer_id, parsed.sender) if issue is not None else None
    if issue is not None and contact is not None:
        return _customer_message(message, issue, contact, parsed, files, now=now)
    if issue is not None and via_token:
        if Contact.objects.filter(email__iexact=parsed.sender).exists():
            # A contact of another customer holding this issue's token: never attach it there.
            message.team_id = None
            return _done(message, Outcome.UNMATCHED, "another customer's token")
        message.issue = issue
        conversation.note_inbound(issue=issue, kind="not_a_contact", sender=parsed.sender, subject=parsed.subject,
                                  body=parsed.new_text, at=message.received_at, inbound_id=message.pk,
                                  attachments=files)
        return _done(message, Outcome.NOT_A_CONTACT, "not a contact")
    return _new_or_unmatched(message, parsed, files, now=now)


def without_nul(parsed: Parsed) -> Parsed:
    """A NUL can arrive in any header or body; PostgreSQL stores none in text (or JSON), and no person typed it."""
    def clean(text: str) -> str:
        return text.replace("\x00", "")

    return replace(parsed, sender=clean(parsed.sender), sender_name=clean(parsed.sender_name),
                   subject=clean(parsed.subject), text=clean(parsed.text), new_text=clean(parsed.new_text),
                   html=clean(parsed.html), message_id=clean(parsed.message_id),
                   recipients=[clean(address) for address in parsed.recipients], auto=clean(parsed.auto))


def keep_attachments(message: InboundMessage, parsed: Parsed) -> list[dict]:
    """Store the attachments (one insert); those over the size limit are listed but not kept. Returns what
    the timeline shows of them."""
    limit = settings.INBOUND_ATTACHMENT_MAX_BYTES
    rows = InboundAttachment.objects.bulk_create([
        InboundAttachment(message=message, filename=item.filename[:200], content_type=item.content_type[:100],
                          size=len(item.payload), data=item.payload if len(item.payload) <= limit else b"")
        for item in parsed.attachments
    ])
    return [{"id": row.pk if row.data else None, "name": row.filename, "size": row.size} for row in rows]


def _customer_message(message: InboundMessage, issue: Issue, contact: Contact, parsed: Parsed, files: list[dict], *,
                      now: datetime) -> None:
    landed = conversation.receive_customer_message(issue=issue, contact=contact, body=parsed.new_text or parsed.text,
                                                   subject=parsed.subject, at=message.received_at,
                                                   inbound_id=message.pk, attachments=files, now=now,
                                                   via="page" if message.source == Source.PAGE else "email")
    message.issue, message.contact = landed, contact
    _done(message, Outcome.CUSTOMER_MESSAGE, "" if landed.pk == issue.pk else f"{issue.reference} was closed: new issue")


def _new_or_unmatched(message: InboundMessage, parsed: Parsed, files: list[dict], *, now: datetime) -> None:
    contacts = list(Contact.objects.reachable().filter(email__iexact=parsed.sender)
                    .select_related("customer__team")[:2]) if parsed.sender else []
    if len(contacts) != 1:
        message.team = _team_for(parsed)
        reason = "several customers" if contacts else "unknown sender"
        return _done(message, Outcome.UNMATCHED, reason)
    contact = contacts[0]
    message.contact, message.team_id = contact, contact.customer.team_id
    if _opened_lately(parsed.sender, now=now) >= settings.INBOUND_NEW_ISSUES_PER_HOUR:
        return _done(message, Outcome.UNMATCHED,
                     f"looping: {parsed.sender} opened {settings.INBOUND_NEW_ISSUES_PER_HOUR} issues in the last hour")
    message.issue = conversation.open_issue_from_email(contact=contact, subject=parsed.subject,
                                                       body=parsed.new_text or parsed.text, at=message.received_at,
                                                       inbound_id=message.pk, attachments=files, now=now)
    _done(message, Outcome.NEW_ISSUE, "")


def _bounce(message: InboundMessage, parsed: Parsed, *, now: datetime) -> None:
    bounce = parsed.bounce
    if not bounce.permanent:
        return _done(message, Outcome.BOUNCE, "a delay notice, not a failure")
    original = OutboundEmail.objects.filter(message_id=f"<{bounce.original_message_id}>").first() \
        if bounce.original_message_id else None
    failed = {address for address, _status, _text in bounce.recipients}
    contacts = Contact.objects.filter(Q(pk=original.contact_id) if original and original.contact_id else Q(pk=None))
    if failed:
        contacts = contacts | Contact.objects.filter(email__in=failed)
    reason = "; ".join(f"{address}: {status} {text}".strip() for address, status, text in bounce.recipients)[:500]
    marked = conversation.mark_undeliverable(contacts=contacts, reason=reason or "bounced", now=now)
    message.issue_id = original.issue_id if original else None
    _done(message, Outcome.BOUNCE, f"{marked} contact(s) marked undeliverable: {reason}" if marked else reason)


def _find_issue(parsed: Parsed) -> tuple[Issue | None, bool]:
    """The token first (headers, the plus address, then the body), then the subject tag."""
    token = tokens.find(" ".join(parsed.in_reply_to + parsed.references), " ".join(parsed.recipients), parsed.text,
                        parsed.html)
    if token is not None:
        issue = Issue.objects.select_related("customer__team").filter(pk=token.issue_id,
                                                                      customer__contacts__pk=token.contact_id).first()
        if issue is not None:
            return issue, True
    if match := SUBJECT_TAG.search(parsed.subject):
        issue = Issue.objects.select_related("customer__team").filter(pk=int(match.group(2)),
                                                                      customer__code=match.group(1)).first()
        # A subject tag alone proves nothing: only a contact of that customer may use it (checked by the caller).
        if issue is not None and _contact_of(issue.customer_id, parsed.sender) is not None:
            return issue, False
    return None, False


def _contact_of(customer_id: int, address: str) -> Contact | None:
    if not address:
        return None
    return Contact.objects.filter(customer_id=customer_id, email__iexact=address).first()


def _is_ours(parsed: Parsed) -> bool:
    domain = f"@{settings.EMAIL_MESSAGE_ID_DOMAIN}".lower()
    if parsed.message_id.lower().endswith(domain) and OutboundEmail.objects.filter(
            message_id=f"<{parsed.message_id}>").exists():
        return True
    ours = {address.lower() for address in (settings.INBOUND_ADDRESS, _address(settings.DEFAULT_FROM_EMAIL)) if address}
    return parsed.sender in ours


def _team_for(parsed: Parsed) -> Team | None:
    """The team whose own address the message was sent to, if any; else the admins' list (None)."""
    addresses = [address for address in parsed.recipients if address]
    return Team.objects.filter(email__in=addresses).exclude(email="").first() if addresses else None


def _opened_lately(sender: str, *, now: datetime) -> int:
    return InboundMessage.objects.filter(sender=sender, outcome=Outcome.NEW_ISSUE,
                                         received_at__gte=now - timedelta(hours=1)).count()


def _address(value: str) -> str:
    return parseaddr(value)[1]


def _done(message: InboundMessage, outcome: str, reason: str) -> None:
    message.outcome, message.reason = outcome, reason.replace("\x00", "")[:2000]
