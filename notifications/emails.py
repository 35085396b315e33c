"""What to say to whom when an issue changes.

Called by ``issues.services`` and the SLA scan inside the transaction of the change. Each function
picks the recipients and the facts of the moment and queues one outbox row per recipient; the worker
renders and sends them later (``notifications.compose``, ``notifications.delivery``). Recipients come
only from the database; internal notes never reach a customer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from issues.models import (
    Clock,
    Contact,
    EventKind,
    Issue,
    IssueEvent,
    Profile,
    Severity,
    Status,
)
from notifications.links import issue_link, site_url
from notifications.models import EmailKind
from notifications.outbox import Email, enqueue

SEVERITY_COLOURS = {"red": "#dc3545", "orange": "#c2570c", "blue": "#0d6efd", "green": "#198754"}
# Dates in emails: with the weekday and a 24-hour time, so "by Friday" is never ambiguous.
DATE_FORMATS = {"en": "D j M Y, H:i", "ko": "Y년 n월 j일 (D) H:i"}
# Where each clock keeps its cycle start and its due time on the Issue.
CLOCK_COLUMNS = {Clock.ACKNOWLEDGE: ("ack_started_at", "ack_due_at"), Clock.UPDATE: ("update_started_at", "update_due_at")}


# --- to the customer ------------------------------------------------------------------------------


def acknowledged(issue: Issue, *, now: datetime) -> None:
    """Who owns the issue, what happens next, when the next update will come."""
    _to_customers([issue], EmailKind.ACKNOWLEDGED, now=now,
                  key=lambda i: f"ack:{i.pk}:{stamp(i.ack_started_at)}",
                  context=lambda i: {"next_update_at": iso(i.update_due_at)})


def public_update(event: IssueEvent) -> None:
    """The update text, the status, the owner and the next promised date."""
    issue = event.issue
    _to_customers([issue], EmailKind.PUBLIC_UPDATE, now=event.at, key=lambda i: f"update:{event.pk}",
                  context=lambda i: {"event": event.pk, "promised": i.promised_update_at is not None,
                                     "next_update_at": iso(i.update_due_at) if i.is_open else None})


def resolved(issue: Issue, *, body: str) -> None:
    """Sent even to contacts who muted updates: what was done and how to reopen."""
    _to_customers([issue], EmailKind.RESOLVED, now=issue.resolved_at, include_muted=True,
                  key=lambda i: f"resolved:{i.pk}:{stamp(i.resolved_at)}", context=lambda i: {"body": body})


def auto_status(issues: list[Issue], *, now: datetime, latest_update: dict[int, int | None],
                next_update_at: dict[int, datetime]) -> int:
    """The k-th automatic "keep you in the loop" email of each issue's update cycle (k already counted)."""
    return _to_customers(
        issues, EmailKind.AUTO_STATUS, now=now,
        key=lambda i: f"auto:{i.pk}:{stamp(i.update_started_at)}:{i.auto_emails_sent}",
        context=lambda i: {"automatic": True, "number": i.auto_emails_sent, "latest_event": latest_update.get(i.pk),
                           "next_update_at": iso(next_update_at[i.pk])},
    )


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


def at_risk_reminders(issues: list[Issue], clock: str, *, now: datetime, not_before: dict[int, datetime]) -> int:
    """One reminder per issue and clock cycle, to the owner (or, unowned, the account manager)."""
    started, due = CLOCK_COLUMNS[clock]
    emails = []
    people = _people(issues)
    for issue in issues:
        person_to_tell = issue.owner or issue.customer.account_manager
        if person_to_tell is None:
            continue
        emails += _staff_emails(
            issue, EmailKind.AT_RISK, [person_to_tell], people, key=f"warn:{issue.pk}:{clock}:{stamp(getattr(issue, started))}",
            context={"clock": clock, "due_at": iso(getattr(issue, due)), "unowned": issue.owner is None},
            not_before=not_before.get(issue.pk),
        )
    return len(enqueue(emails, now=now))


def breach_notices(issues: list[Issue], clock: str, *, now: datetime, raised: dict[int, dict],
                   not_before: dict[int, datetime]) -> int:
    """One notice per person per clock cycle: the owner, and the team lead added (never instead)."""
    started, due = CLOCK_COLUMNS[clock]
    emails = []
    people = _people(issues)
    for issue in issues:
        key = f"breach:{issue.pk}:{clock}:{stamp(getattr(issue, started))}"
        responsible = issue.owner or issue.customer.account_manager
        for user in _unique([responsible, issue.customer.team.lead]):
            emails += _staff_emails(
                issue, EmailKind.BREACH, [user], people, key=key, not_before=not_before.get(issue.pk),
                context={"clock": clock, "due_at": iso(getattr(issue, due)), **raised.get(issue.pk, {}),
                         "is_owner": responsible is not None and user.pk == responsible.pk},
            )
    return len(enqueue(emails, now=now))


# --- shared ---------------------------------------------------------------------------------------


def stamp(moment: datetime | None) -> str:
    """A cycle's start as it appears in dedupe keys: UTC, to the microsecond."""
    return moment.astimezone(UTC).isoformat() if moment else "-"


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _red_issue(issue: Issue, *, by, raised: bool, now: datetime) -> None:
    lead = issue.customer.team.lead
    if lead is None or lead.pk == getattr(by, "pk", None):
        return
    emails = _staff_emails(issue, EmailKind.RED_ISSUE, [lead], _people([issue]), key=f"red:{issue.pk}:{stamp(now)}",
                           context={"actor": getattr(by, "pk", None), "raised": raised})
    _queue_and_note(issue, EmailKind.RED_ISSUE, emails, now=now)


def _tell_owner(event: IssueEvent, kind: str) -> None:
    issue = event.issue
    if issue.owner_id is None or issue.owner_id == event.actor_id:
        return
    emails = _staff_emails(issue, kind, [issue.owner], _people([issue]), key=f"{kind}:{event.pk}",
                           context={"actor": event.actor_id})
    _queue_and_note(issue, kind, emails, now=event.at)


def _to_customers(issues: list[Issue], kind: str, *, now: datetime, key, context, include_muted: bool = False) -> int:
    contacts = Contact.objects.filter(customer__in={issue.customer_id for issue in issues}).order_by("pk")
    if not include_muted:
        contacts = contacts.filter(receives_updates=True)
    by_customer = defaultdict(list)
    for contact in contacts:
        by_customer[contact.customer_id].append(contact)
    emails = [
        Email(recipient=contact.email, recipient_name=contact.name, language=contact.language, kind=kind,
              dedupe_key=f"{key(issue)}:{contact.pk}", issue_id=issue.pk, contact_id=contact.pk,
              context=context(issue))
        for issue in issues
        for contact in by_customer[issue.customer_id]
    ]
    if len(issues) == 1:
        return _queue_and_note(issues[0], kind, emails, now=now)
    return len(enqueue(emails, now=now))


def _staff_emails(issue: Issue, kind: str, users: list, people: dict[int, str], *, key: str, context: dict,
                  not_before: datetime | None = None) -> list[Email]:
    return [
        Email(recipient=user.email, recipient_name=user.get_full_name() or user.get_username(),
              language=people.get(user.pk, "en"), kind=kind, dedupe_key=f"{key}:{user.pk}", issue_id=issue.pk,
              context=context, not_before=not_before)
        for user in users
        if user is not None and user.is_active and user.email
    ]


def _people(issues: list[Issue]) -> dict[int, str]:
    """The language of every colleague these issues may concern, in one query."""
    ids = set()
    for issue in issues:
        ids.update({issue.owner_id, issue.customer.account_manager_id, issue.customer.team.lead_id})
    return dict(Profile.objects.filter(user_id__in=ids - {None}).values_list("user_id", "language"))


def _unique(users: list) -> list:
    seen, result = set(), []
    for user in users:
        if user is not None and user.pk not in seen:
            seen.add(user.pk)
            result.append(user)
    return result


def _queue_and_note(issue: Issue, kind: str, emails: list[Email], *, now: datetime) -> int:
    """Queue the emails of one change and note them on the issue's timeline."""
    written = enqueue(emails, now=now)
    if written:
        IssueEvent.objects.create(
            issue=issue, kind=EventKind.EMAIL_QUEUED, at=now, public=False, new_value=kind,
            data={"kind": kind, "recipients": [row.recipient for row in written]},
        )
    return len(written)


# --- what each kind says, filled in when the worker renders the row -------------------------------


@dataclass
class Lookups:
    """Everything a batch of rows refers to, loaded once per batch."""

    issues: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)


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


def customer_facts(issue: Issue, language: str) -> list:
    return [(_("Status"), Status(issue.status).label), (_("Owner"), person(issue.owner, language)),
            (_("Reference"), issue.reference)]


def staff_facts(issue: Issue, language: str) -> dict:
    facts = [(_("Customer"), issue.customer.name), (_("Severity"), Severity(issue.severity).label),
             (_("Status"), Status(issue.status).label), (_("Owner"), person(issue.owner, language))]
    if issue.ack_due_at:
        facts.append((_("Acknowledge by"), when(issue.ack_due_at)))
    if issue.update_due_at:
        facts.append((_("Update the customer by"), when(issue.update_due_at)))
    return {"facts": facts, "severity_label": Severity(issue.severity).label,
            "severity_colour": SEVERITY_COLOURS[issue.severity]}


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _event_context(context: dict, lookups: Lookups, language: str) -> dict:
    event = lookups.events.get(context.get("event"))
    return {"body": event.body if event else "", "author_name": person(event.actor if event else None, language),
            "promised": context.get("promised", False), "next_update_at": _moment(context.get("next_update_at"))}


def _auto_context(context: dict, lookups: Lookups, language: str) -> dict:
    latest = lookups.events.get(context.get("latest_event"))
    return {"latest_update": latest.body if latest else "", "latest_update_at": latest.at if latest else None,
            "next_update_at": _moment(context.get("next_update_at"))}


def _actor_context(context: dict, lookups: Lookups, language: str) -> dict:
    return {"actor_name": person(lookups.users.get(context.get("actor")), language),
            "raised": context.get("raised", False)}


def _clock_context(context: dict, lookups: Lookups, language: str) -> dict:
    raised = {}
    if context.get("raised_from"):
        raised = {"raised_from": Severity(context["raised_from"]).label, "raised_to": Severity(context["raised_to"]).label,
                  "raised_at": _moment(context["raised_at"])}
    return {"clock_name": Clock(context["clock"]).label, "due_at": _moment(context.get("due_at")),
            "is_owner": context.get("is_owner", True), "unowned": context.get("unowned", False), **raised}


def _digest_lines(section: dict) -> list[dict]:
    return [{**line, "url": issue_link(line["id"]), "due": _moment(line["due"]),
             "severity_label": Severity(line["severity"]).label, "severity_colour": SEVERITY_COLOURS[line["severity"]]}
            for line in section["issues"]]


def _digest_context(context: dict, lookups: Lookups, language: str) -> dict:
    """The digest's sections as queued (what needed attention that morning), with links and dates. A team's
    section links to its dashboard; the person's own section (no name) to their inbox."""
    inbox, dashboard = reverse("inbox"), reverse("dashboard")
    sections = [{**team, "issues": _digest_lines(team), "link": site_url(f"{dashboard}?team={team['id']}")}
                for team in context.get("teams", [])]
    if own := context.get("own"):
        sections.append({**own, "name": "", "issues": _digest_lines(own), "link": site_url(f"{inbox}?owner=me")})
    return {"day": date.fromisoformat(context["day"]), "sections": sections,
            "breached": sum(section["breached"] for section in sections),
            "due_24h": sum(section["due_24h"] for section in sections),
            "preferences_url": site_url(reverse("preferences"))}


CONTEXT_FOR_KIND = {
    EmailKind.ACKNOWLEDGED: lambda c, lookups, language: {"next_update_at": _moment(c.get("next_update_at"))},
    EmailKind.PUBLIC_UPDATE: _event_context,
    EmailKind.RESOLVED: lambda c, lookups, language: {"body": c.get("body", "")},
    EmailKind.AUTO_STATUS: _auto_context,
    EmailKind.ASSIGNED: _actor_context,
    EmailKind.REOPENED: _actor_context,
    EmailKind.RED_ISSUE: _actor_context,
    EmailKind.AT_RISK: _clock_context,
    EmailKind.BREACH: _clock_context,
    EmailKind.DIGEST: _digest_context,
}
