"""What customers' email does to issues: the services behind the inbound door.

Like ``issues.services`` (whose pieces these share), each function is one transaction that changes the
issue, appends its timeline events, recomputes the clocks and queues the emails. The acting user is
``None``: the customer, or the system, did it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from issues import services, text
from issues.models import Contact, EventKind, Issue, IssueEvent, Status
from issues.services import _change, _lock, _reopen, _restart_acknowledge_clock, _resume
from issues.timeline import record
from notifications import emails, recipients
from notifications.models import OutboundEmail
from webhooks import emit as webhooks


def receive_customer_message(*, issue: Issue, contact: Contact, body: str, subject: str, at: datetime,
                             inbound_id: int | None = None, attachments: list[dict] | None = None,
                             now: datetime | None = None, via: str = "email") -> Issue:
    """A contact answered. Returns the issue the answer landed on: this one, or a new one that follows
    it when this one is closed or was resolved more than REOPEN_WITHIN_DAYS ago.

    The answer ends *waiting on the customer*, reopens a recently resolved issue, and starts a response
    cycle: a person must answer within the severity's acknowledge window (the acknowledge clock restarts;
    a public update or the Acknowledge action stops it). The owner is told once, with the text. ``via``:
    "email", or "page" when they wrote on their issue page (the timeline says which).
    """
    now = now or timezone.now()
    body = _as_received(body)
    with transaction.atomic():
        _lock(issue)
        if _too_late_to_reopen(issue, at):
            return _follow_up(issue, contact=contact, body=body, subject=subject, at=at, inbound_id=inbound_id,
                              attachments=attachments, via=via)
        event, reopened, resumed = None, issue.status == Status.RESOLVED, issue.status == Status.WAITING_ON_CUSTOMER

        def answer() -> None:
            nonlocal event
            if reopened:
                _reopen(issue, by=None, now=at)
            elif resumed:
                record(issue, EventKind.STATUS_CHANGED, by=None, at=at, public=True, old=issue.status,
                       new=Status.IN_PROGRESS)
                issue.status = Status.IN_PROGRESS
                _resume(issue, now=at)
            event = record(issue, EventKind.CUSTOMER_MESSAGE, by=None, at=at, public=True, body=body,
                           data=_from(contact, inbound_id, attachments, via=via))
            _keep_in_the_loop(issue, contact)
            if issue.acknowledged_at is not None:
                _restart_acknowledge_clock(issue, now=at)

        _change(issue, by=None, now=now, apply=answer)
        issue.save()
        emails.customer_wrote(event, reopened=reopened, resumed=resumed)
    return issue


def open_issue_from_email(*, contact: Contact, subject: str, body: str, at: datetime, inbound_id: int | None = None,
                          attachments: list[dict] | None = None, now: datetime | None = None,
                          via: str = "email") -> Issue:
    """A known contact wrote without answering anything: their email is a new issue, owned by the account
    manager (unowned if they may no longer own it), its acknowledge clock started when it arrived. The
    contact gets a receipt at once."""
    customer = contact.customer
    body = _as_received(body)
    with transaction.atomic():
        issue = services.open_issue(
            customer=customer, title=_title(subject, body), description=body, reporter=contact,
            severity=customer.team.default_severity, owner=recipients.default_owner(customer), by=None, now=at,
        )
        # The event was written a moment ago in this transaction: say it came by email, from whom.
        IssueEvent.objects.filter(issue=issue, kind=EventKind.CREATED).update(
            data=_from(contact, inbound_id, attachments, via=via))
        emails.receipt(issue, contact=contact, now=now or timezone.now())
    return issue


def note_inbound(*, issue: Issue, kind: str, sender: str, subject: str, at: datetime, body: str = "",
                 inbound_id: int | None = None, attachments: list[dict] | None = None) -> IssueEvent:
    """A line on the issue, for staff only: an automatic reply came (nothing else happens), or someone
    who is not a contact answered (shown until staff accept or discard it; nothing resumes or reopens)."""
    automatic = kind == "automatic"
    return record(issue, EventKind.INBOUND_AUTOMATIC if automatic else EventKind.INBOUND_NOT_A_CONTACT, by=None,
                  at=at, body="" if automatic else _as_received(body),
                  data={"sender": sender, "subject": subject, "inbound": inbound_id, "attachments": attachments or []})


def mark_undeliverable(*, contacts: QuerySet[Contact], reason: str, now: datetime | None = None) -> int:
    """Their mail bounced for good: stop writing to them, say so on their customer's open issues, and tell
    each issue's owner and the team lead once. Returns how many contacts were newly marked."""
    now = now or timezone.now()
    with transaction.atomic():
        marked = list(contacts.reachable().select_for_update())
        if not marked:
            return 0
        Contact.objects.filter(pk__in=[contact.pk for contact in marked]).update(
            undeliverable_at=now, undeliverable_reason=reason[:500])
        for contact in marked:  # what the emails below say
            contact.undeliverable_at, contact.undeliverable_reason = now, reason[:500]
        emails.cancel_to_contacts([contact.pk for contact in marked])
        for contact in marked:
            issues = list(Issue.objects.open().filter(customer_id=contact.customer_id)
                          .select_related("customer__team", "owner"))
            for issue in issues:
                record(issue, EventKind.CONTACT_UNREACHABLE, by=None, at=now, new=contact.email[:200],
                       body=reason[:500], data={"contact": contact.pk, "name": contact.name})
            emails.contact_unreachable(contact, issues, now=now)
            webhooks.contact_undeliverable(contact, issues, now=now)
    return len(marked)


def mark_refused_contacts(*, now: datetime | None = None) -> int:
    """Contacts whose address our own relay refused for good (5xx when we sent to them) are undeliverable,
    as if their mail server had bounced the email. Run after each delivery."""
    rows = list(OutboundEmail.objects.filter(bounce_pending=True).values_list("pk", "contact_id", "recipient",
                                                                              "last_error")[:500])
    marked = 0
    for _pk, contact_id, recipient, reason in rows:
        # Only while the contact still has the address that was refused (nobody corrected it since).
        contacts = Contact.objects.filter(pk=contact_id, email__iexact=recipient)
        marked += mark_undeliverable(contacts=contacts, reason=reason, now=now)
    OutboundEmail.objects.filter(pk__in=[row[0] for row in rows]).update(bounce_pending=False)
    return marked


def _keep_in_the_loop(issue: Issue, contact: Contact) -> None:
    """A contact who writes on an issue hears its answers: they are copied on it from now on (the reporter
    hears anyway)."""
    if contact.customer_id == issue.customer_id and contact.pk != issue.reporter_id:
        issue.cc.add(contact)


def _too_late_to_reopen(issue: Issue, at: datetime) -> bool:
    if issue.status == Status.CLOSED:
        return True
    window = timedelta(days=settings.REOPEN_WITHIN_DAYS)
    return issue.status == Status.RESOLVED and issue.resolved_at is not None and issue.resolved_at < at - window


def _follow_up(issue: Issue, *, contact: Contact, body: str, subject: str, at: datetime,
               inbound_id: int | None, attachments: list[dict] | None, via: str = "email") -> Issue:
    new = open_issue_from_email(contact=contact, subject=subject or issue.title, body=body, at=at,
                                inbound_id=inbound_id, attachments=attachments, via=via)
    Issue.objects.filter(pk=new.pk).update(follows=issue)
    new.follows = issue
    record(issue, EventKind.FOLLOWED_UP, by=None, at=at, new=new.reference, data={"issue": new.pk})
    return new


def _from(contact: Contact, inbound_id: int | None, attachments: list[dict] | None, *, via: str = "email") -> dict:
    return {"contact": contact.pk, "name": contact.name, "email": contact.email, "inbound": inbound_id,
            "attachments": attachments or [], "via": via}


def _title(subject: str, body: str) -> str:
    for candidate in (subject, *body.splitlines()):
        if not text.is_blank(candidate):
            return text.one_line(candidate)[:200]
    return "(no subject)"


def _as_received(body: str) -> str:
    """A customer's text is kept, never refused: at most MESSAGE_MAX_CHARS of it (the original stays one
    click away), and a dash for a message with no text (an attachment alone)."""
    body = text.trim((body or "").replace("\x00", ""))
    limit = settings.MESSAGE_MAX_CHARS
    return (body[: limit - 1] + "…" if len(body) > limit else body) or "—"
