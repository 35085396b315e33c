"""What to say to whom when an issue changes.

Called by ``issues.services`` (and the SLA scan) inside the transaction of the change: each function
composes the emails, writes them to the outbox and notes them on the issue's timeline. Nothing is
sent here. Recipients come only from the database; internal notes never reach a customer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import formats, timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from issues.models import EventKind, Issue, IssueEvent, Profile, Severity, Status
from notifications.compose import DATE_FORMATS, Recipient, compose, issue_link
from notifications.models import EmailKind
from notifications.outbox import Email, enqueue

SEVERITY_COLOURS = {"red": "#dc3545", "orange": "#c2570c", "blue": "#0d6efd", "green": "#198754"}


# --- to the customer ------------------------------------------------------------------------------


def acknowledged(issue: Issue, *, now: datetime) -> None:
    """Who owns the issue, what happens next, when the next update will come."""
    _to_customer(issue, EmailKind.ACKNOWLEDGED, key=f"ack:{issue.pk}:{stamp(issue.ack_started_at)}", now=now,
                 context={"next_update_at": issue.update_due_at})


def public_update(event: IssueEvent) -> None:
    """The update text, the status, the owner and the next promised date."""
    issue = event.issue
    _to_customer(issue, EmailKind.PUBLIC_UPDATE, key=f"update:{event.pk}", now=event.at, context={
        "body": event.body, "author_name": event.actor, "promised": issue.promised_update_at is not None,
        "next_update_at": issue.update_due_at if issue.is_open else None,
    })


def resolved(issue: Issue, *, body: str) -> None:
    """Sent even to contacts who muted updates: what was done and how to reopen."""
    _to_customer(issue, EmailKind.RESOLVED, key=f"resolved:{issue.pk}:{stamp(issue.resolved_at)}",
                 now=issue.resolved_at,
                 context={"body": body}, include_muted=True)


def auto_status(issue: Issue, *, number: int, latest_update: IssueEvent | None, next_update_at: datetime,
                now: datetime) -> None:
    """The k-th automatic "keep you in the loop" email of the current update cycle."""
    _to_customer(issue, EmailKind.AUTO_STATUS, key=f"auto:{issue.pk}:{stamp(issue.update_started_at)}:{number}",
                 now=now, automatic=True, context={
                     "latest_update": latest_update.body if latest_update else "",
                     "latest_update_at": latest_update.at if latest_update else None,
                     "next_update_at": next_update_at,
                 })


# --- to staff -------------------------------------------------------------------------------------


def issue_opened(issue: Issue, *, by) -> None:
    """Red issues: the team lead hears at once."""
    if issue.severity == Severity.RED:
        _red_issue(issue, by=by, raised=False, now=issue.created_at)


def severity_changed(issue: Issue, *, previous_severity: str, by) -> None:
    """Raised to red: the team lead hears at once, as for a red issue opened."""
    if issue.severity == Severity.RED and previous_severity != Severity.RED:
        _red_issue(issue, by=by, raised=True, now=issue.updated_at)


def assigned(event: IssueEvent) -> None:
    """The new owner hears, unless they took the issue themselves."""
    _tell_owner(event, EmailKind.ASSIGNED)


def reopened(event: IssueEvent) -> None:
    """The owner hears that the issue is back and needs acknowledging again."""
    _tell_owner(event, EmailKind.REOPENED)


def _tell_owner(event: IssueEvent, kind: str) -> None:
    issue = event.issue
    if issue.owner_id is None or issue.owner_id == event.actor_id:
        return
    _to_staff(issue, kind, [issue.owner], key=f"{kind}:{event.pk}", now=event.at,
              context={"actor_name": event.actor})


def _red_issue(issue: Issue, *, by, raised: bool, now: datetime) -> None:
    lead = issue.customer.team.lead
    if lead is None or lead.pk == getattr(by, "pk", None):
        return
    _to_staff(issue, EmailKind.RED_ISSUE, [lead], key=f"red:{issue.pk}:{stamp(now)}", now=now,
              context={"actor_name": by, "raised": raised})


# --- shared ---------------------------------------------------------------------------------------


def stamp(moment: datetime | None) -> str:
    """A cycle's start as it appears in dedupe keys: UTC, to the microsecond."""
    return moment.astimezone(UTC).isoformat() if moment else "-"


def when(moment: datetime | None):
    """A date for an email, formatted in the email's language when the template renders it."""
    if moment is None:
        return "—"
    return lazy(lambda: formats.date_format(
        timezone.localtime(moment), DATE_FORMATS.get(translation.get_language(), DATE_FORMATS["en"])), str)()


def person(user, language: str) -> str:
    """How an email names a colleague: with 님 in Korean, which reads naturally before any particle."""
    if user is None:
        return "저희 지원팀" if language == "ko" else "our support team"
    name = user.get_full_name() or user.get_username()
    return f"{name}님" if language == "ko" else name


def _to_customer(issue: Issue, kind: str, *, key: str, now: datetime, context: dict, include_muted: bool = False,
                 automatic: bool = False) -> None:
    contacts = issue.customer.contacts.all()
    if not include_muted:
        contacts = contacts.filter(receives_updates=True)
    emails = []
    for contact in contacts:
        recipient = Recipient(contact.email, contact.name, contact.language, contact_id=contact.pk)
        names = _names(context, recipient.language, owner=issue.owner)
        facts = [(_("Status"), Status(issue.status).label), (_("Owner"), names["owner_name"]),
                 (_("Reference"), issue.reference)]
        emails.append(compose(
            kind=kind, template=kind, recipient=recipient, dedupe_key=f"{key}:{contact.pk}", issue=issue,
            automatic=automatic, context={**context, **names, "facts": facts},
        ))
    _queue(issue, kind, emails, now=now)


def _to_staff(issue: Issue, kind: str, users: list, *, key: str, now: datetime, context: dict) -> list[Email]:
    emails = []
    for user in users:
        if not user.is_active or not user.email:
            continue
        recipient = Recipient(user.email, user.get_full_name() or user.get_username(), Profile.language_of(user))
        names = _names(context, recipient.language, owner=issue.owner)
        emails.append(compose(
            kind=kind, template=kind, recipient=recipient, dedupe_key=f"{key}:{user.pk}", issue=issue,
            context={**context, **names, **_staff_facts(issue, names["owner_name"]),
                     "compose_url": issue_link(issue, compose=True)},
        ))
    _queue(issue, kind, emails, now=now)
    return emails


def _names(context: dict, language: str, *, owner) -> dict:
    names = {"owner_name": person(owner, language)}
    for name in ("actor_name", "author_name"):
        if name in context:
            names[name] = person(context[name], language)
    return names


def _staff_facts(issue: Issue, owner_name: str) -> dict:
    facts = [(_("Customer"), issue.customer.name), (_("Severity"), Severity(issue.severity).label),
             (_("Status"), Status(issue.status).label), (_("Owner"), owner_name)]
    if issue.ack_due_at:
        facts.append((_("Acknowledge by"), when(issue.ack_due_at)))
    if issue.update_due_at:
        facts.append((_("Update the customer by"), when(issue.update_due_at)))
    return {"facts": facts, "severity_label": Severity(issue.severity).label,
            "severity_colour": SEVERITY_COLOURS[issue.severity]}


def _queue(issue: Issue, kind: str, emails: list[Email], *, now: datetime) -> None:
    written = enqueue(emails, now=now)
    if written:
        IssueEvent.objects.create(
            issue=issue, kind=EventKind.EMAIL_QUEUED, at=now, public=False, new_value=kind,
            data={"kind": kind, "recipients": [row.recipient for row in written]},
        )
