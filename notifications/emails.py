"""What to say to whom when an issue changes.

Called by ``issues.services`` and the SLA scan inside the transaction of the change. Each function
picks the recipients and the facts of the moment and queues one outbox row per recipient; the worker
renders and sends them later (``notifications.compose``, ``notifications.delivery``). Recipients come
only from the database; internal notes never reach a customer; a colleague hears about an issue only
while they may open it (``notifications.recipients``). Every queued email is noted on its issue's
timeline with who was told.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from issues import sla
from issues.clocks import clock_setup
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
from notifications import recipients
from notifications.links import issue_link, site_url
from notifications.models import EmailKind, OutboundEmail
from notifications.outbox import Email, enqueue
from notifications.recipients import Role, Told

SEVERITY_COLOURS = {"red": "#dc3545", "orange": "#c2570c", "blue": "#0d6efd", "green": "#198754"}
# Dates in emails: with the weekday and a 24-hour time, so "by Friday" is never ambiguous.
DATE_FORMATS = {"en": "D j M Y, H:i", "ko": "Y년 n월 j일 (D) H:i"}
# Where each clock keeps its cycle start and its due time on the Issue.
CLOCK_COLUMNS = {Clock.ACKNOWLEDGE: ("ack_started_at", "ack_due_at"), Clock.UPDATE: ("update_started_at", "update_due_at")}


# --- to the customer ------------------------------------------------------------------------------


def acknowledged(issue: Issue, *, now: datetime) -> int:
    """Who owns the issue, what happens next, when the next update will come. Returns how many contacts
    were written to (0: nobody heard)."""
    return len(_to_customers([issue], EmailKind.ACKNOWLEDGED, now=now,
                             key=lambda i: f"ack:{i.pk}:{stamp(i.ack_started_at)}", context=_next_update))


def public_update(event: IssueEvent) -> int:
    """The update text, the status, the owner and the next promised date. Returns how many contacts were
    written to."""
    issue = event.issue
    return len(_to_customers([issue], EmailKind.PUBLIC_UPDATE, now=event.at, key=lambda i: f"update:{event.pk}",
                             context=lambda i: {"event": event.pk, "promised": i.promised_update_at is not None,
                                                "next_update_at": iso(i.update_due_at) if i.is_open else None}))


def resolved(issue: Issue, *, body: str) -> int:
    """Sent even to contacts who muted updates: what was done and how to reopen. Returns how many contacts
    were written to."""
    return len(_to_customers([issue], EmailKind.RESOLVED, now=issue.resolved_at, include_muted=True,
                             key=lambda i: f"resolved:{i.pk}:{stamp(i.resolved_at)}", context=lambda i: {"body": body}))


def auto_status(issues: list[Issue], *, now: datetime, latest_update: dict[int, int | None],
                next_update_at: dict[int, datetime]) -> set[int]:
    """The k-th automatic "keep you in the loop" email of each issue's update cycle (k already counted).
    Returns the issues whose customer was written to."""
    written = _to_customers(
        issues, EmailKind.AUTO_STATUS, now=now,
        key=lambda i: f"auto:{i.pk}:{stamp(i.update_started_at)}:{i.auto_emails_sent}",
        context=lambda i: {"automatic": True, "number": i.auto_emails_sent, "latest_event": latest_update.get(i.pk),
                           "next_update_at": iso(next_update_at[i.pk])},
    )
    return {row.issue_id for row in written}


def _next_update(issue: Issue) -> dict:
    """When the customer hears next. While we wait on them the update clock is paused and has no date:
    say instead how long after their answer the next update comes (the whole window: the cycle starts
    paused, so none of it is used yet)."""
    if issue.update_due_at is not None or issue.update_paused_at is None:
        return {"next_update_at": iso(issue.update_due_at)}
    rules, calendar = clock_setup(issue)
    return {"next_update_at": None, "waiting": True, "window": rules.update_every.total_seconds(),
            "working_time": calendar is not sla.AROUND_THE_CLOCK}


# --- to staff (only people who may open the issue: ``notifications.recipients``) --------------------


def issue_opened(issue: Issue, *, by) -> None:
    """Red issues: the team lead hears at once. An issue that opens unowned because its account manager
    may no longer take it: whoever would act on it hears that it needs an owner."""
    found = recipients.reach([issue])[issue.pk]
    told = []
    if issue.severity == Severity.RED:
        told = _red_issue(issue, found, by=by, raised=False, now=issue.created_at)
    if issue.owner_id is None and issue.customer.account_manager_id is not None and found.manager is None:
        _needs_owner(issue, found, by=by, already={person.user.pk for person in told})


def severity_changed(issue: Issue, *, previous_severity: str, by) -> None:
    """Raised to red: the team lead hears at once, as for a red issue opened."""
    if issue.severity == Severity.RED and previous_severity != Severity.RED:
        _red_issue(issue, recipients.reach([issue])[issue.pk], by=by, raised=True, now=issue.updated_at)


def assigned(event: IssueEvent) -> None:
    """The new owner hears, unless they took the issue themselves."""
    _tell_owner(event, EmailKind.ASSIGNED)


def reopened(event: IssueEvent) -> None:
    """The owner (or whoever stands in) hears that the issue is back and needs acknowledging again."""
    _tell_owner(event, EmailKind.REOPENED)


def at_risk_reminders(issues: list[Issue], clock: str, *, now: datetime, not_before: dict[int, datetime]) -> int:
    """One reminder per issue and clock cycle, to whoever must act: the owner, else a stand-in."""
    started, due = CLOCK_COLUMNS[clock]
    found = recipients.reach(issues)
    emails = []
    for issue in issues:
        emails += _staff_emails(
            issue, EmailKind.AT_RISK, found[issue.pk].responsible(), found[issue.pk],
            key=f"warn:{issue.pk}:{clock}:{stamp(getattr(issue, started))}",
            context={"clock": clock, "due_at": iso(getattr(issue, due))}, not_before=not_before.get(issue.pk),
        )
    return len(_queue_and_note_all(emails, now=now))


def breach_notices(issues: list[Issue], clock: str, *, now: datetime, raised: dict[int, dict],
                   not_before: dict[int, datetime]) -> int:
    """One notice per person per clock cycle: whoever must act, and the team lead added (never instead)."""
    started, due = CLOCK_COLUMNS[clock]
    found = recipients.reach(issues)
    emails = []
    for issue in issues:
        reach = found[issue.pk]
        emails += _staff_emails(
            issue, EmailKind.BREACH, _unique(reach.responsible() + reach.lead_part()), reach,
            key=f"breach:{issue.pk}:{clock}:{stamp(getattr(issue, started))}", not_before=not_before.get(issue.pk),
            context={"clock": clock, "due_at": iso(getattr(issue, due)), **raised.get(issue.pk, {})},
        )
    return len(_queue_and_note_all(emails, now=now))


# --- shared ---------------------------------------------------------------------------------------


def stamp(moment: datetime | None) -> str:
    """A cycle's start as it appears in dedupe keys: UTC, to the microsecond."""
    return moment.astimezone(UTC).isoformat() if moment else "-"


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _pk(user) -> int | None:
    return getattr(user, "pk", None)


def _red_issue(issue: Issue, found: recipients.Reach, *, by, raised: bool, now: datetime) -> list[Told]:
    """The lead, unless they raised it themselves; without a lead, the account manager, else the team
    (never the person who raised it: they know)."""
    if found.lead is not None and found.lead.pk == _pk(by):
        return []
    told = found.lead_part(besides=_pk(by))
    emails = _staff_emails(issue, EmailKind.RED_ISSUE, told, found, key=f"red:{issue.pk}:{stamp(now)}",
                           context={"actor": _pk(by), "raised": raised})
    _queue_and_note_all(emails, now=now)
    return told


def _needs_owner(issue: Issue, found: recipients.Reach, *, by, already: set[int]) -> None:
    """An "assigned" email that says nobody owns the issue yet, to whoever would act on it (not to whoever
    opened it, nor twice to a lead who just had the red alert): the existing kind, no new machinery."""
    told = [person for person in found.responsible() if person.user.pk not in already | {_pk(by)}]
    emails = _staff_emails(issue, EmailKind.ASSIGNED, told, found, key=f"unowned:{issue.pk}",
                           context={"actor": _pk(by), "needs_owner": True})
    _queue_and_note_all(emails, now=issue.created_at)


def _tell_owner(event: IssueEvent, kind: str) -> None:
    """The owner hears of a change someone else made; an owner who is gone, whoever stands in."""
    issue = event.issue
    found = recipients.reach([issue])[issue.pk]
    told = [person for person in found.responsible() if person.user.pk != event.actor_id]
    emails = _staff_emails(issue, kind, told, found, key=f"{kind}:{event.pk}", context={"actor": event.actor_id})
    _queue_and_note_all(emails, now=event.at)


def update_recipients(*, include_muted: bool = False, **where) -> QuerySet:
    """The contacts (among those `where` picks) a customer email reaches: those who receive updates;
    everyone, for a resolution. The issue page asks the same to warn when nobody would hear."""
    contacts = Contact.objects.filter(**where)
    return contacts if include_muted else contacts.filter(receives_updates=True)


def _to_customers(issues: list[Issue], kind: str, *, now: datetime, key, context,
                  include_muted: bool = False) -> list[OutboundEmail]:
    """Queue one email per reachable contact; returns the rows written (none: nobody heard)."""
    by_customer = defaultdict(list)
    contacts = update_recipients(customer__in={issue.customer_id for issue in issues}, include_muted=include_muted)
    for contact in contacts.order_by("pk"):
        by_customer[contact.customer_id].append(contact)
    emails = [
        Email(recipient=contact.email, recipient_name=contact.name, language=contact.language, kind=kind,
              dedupe_key=f"{key(issue)}:{contact.pk}", issue_id=issue.pk, contact_id=contact.pk,
              context=context(issue))
        for issue in issues
        for contact in by_customer[issue.customer_id]
    ]
    return _queue_and_note_all(emails, now=now)


def _staff_emails(issue: Issue, kind: str, told: list[Told], found: recipients.Reach, *, key: str, context: dict,
                  not_before: datetime | None = None) -> list[Email]:
    return [
        Email(recipient=person.user.email, recipient_name=person.user.get_full_name() or person.user.get_username(),
              language=Profile.language_of(person.user), kind=kind, dedupe_key=f"{key}:{person.user.pk}",
              issue_id=issue.pk, context={**context, **person.context(found)}, not_before=not_before)
        for person in told
        if person.user.email
    ]


def _unique(told: list[Told]) -> list[Told]:
    """Each person once, in the part they were named for first (the one who must act comes first)."""
    seen, result = set(), []
    for person in told:
        if person.user.pk not in seen:
            seen.add(person.user.pk)
            result.append(person)
    return result


def _queue_and_note(issue: Issue, kind: str, emails: list[Email], *, now: datetime) -> int:
    """Queue the emails of one change to one issue and note them on its timeline; returns how many."""
    return len(_queue_and_note_all(emails, now=now))


def _queue_and_note_all(emails: list[Email], *, now: datetime) -> list[OutboundEmail]:
    """Queue the emails of one change (or one scan batch) and note on each issue's timeline who was told."""
    written = enqueue(emails, now=now)
    recipients_of = defaultdict(list)
    for row in written:
        if row.issue_id is not None:
            recipients_of[row.issue_id, row.kind].append(row.recipient)
    IssueEvent.objects.bulk_create([
        IssueEvent(issue_id=issue_id, kind=EventKind.EMAIL_QUEUED, at=now, public=False, new_value=kind,
                   data={"kind": kind, "recipients": addresses})
        for (issue_id, kind), addresses in recipients_of.items()
    ])
    return written


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


def _told_context(context: dict) -> dict:
    """Why this colleague is told (``recipients.Role``), for the sentence that says so. Rows queued before
    roles were stored name the owner, the account manager of an unowned issue, or the lead."""
    unowned, is_owner = context.get("unowned", False), context.get("is_owner", True)
    role = context.get("role") or (Role.ACCOUNT_MANAGER if unowned else Role.OWNER if is_owner else Role.LEAD)
    return {"role": role, "is_owner": is_owner, "unowned": unowned, "owner_gone": context.get("owner_gone", False),
            "needs_owner": context.get("needs_owner", False)}


def _actor_context(context: dict, lookups: Lookups, language: str) -> dict:
    return {"actor_name": person(lookups.users.get(context.get("actor")), language),
            "raised": context.get("raised", False), **_told_context(context)}


def _acknowledged_context(context: dict, lookups: Lookups, language: str) -> dict:
    """The next update's date; or, while we wait on the customer, the window that starts with their answer,
    in whole days (calendar time) or hours (working time, or a window of part days), rounded up so the
    promise is never shorter than the clock."""
    facts = {"next_update_at": _moment(context.get("next_update_at")), "waiting": context.get("waiting", False)}
    if facts["waiting"]:
        seconds, working = context["window"], context.get("working_time", False)
        days, rest = divmod(seconds, 86400)
        if not working and not rest:
            facts.update(within_days=int(days))
        else:
            facts.update(within_hours=int(-(-seconds // 3600)), working_time=working)
    return facts


def _clock_context(context: dict, lookups: Lookups, language: str) -> dict:
    raised = {}
    if context.get("raised_from"):
        raised = {"raised_from": Severity(context["raised_from"]).label, "raised_to": Severity(context["raised_to"]).label,
                  "raised_at": _moment(context["raised_at"])}
    return {"clock_name": Clock(context["clock"]).label, "due_at": _moment(context.get("due_at")),
            **_told_context(context), **raised}


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
    EmailKind.ACKNOWLEDGED: _acknowledged_context,
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
