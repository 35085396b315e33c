"""Who hears of a closure of the office, when, and under which key (``issues.closures`` announces it).

Runs inside the announcement's transaction, like ``notifications.emails``: it picks the people and the facts of
the moment and queues one outbox row per person, named after the closure; ``notifications.kinds`` says it.
Neither email is news about an issue, so neither moves ``Issue.customer_last_heard_at``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from issues.models import Closure, Contact, Issue, Profile, Severity, SlaPolicy, Status
from issues.text import person_name
from notifications import recipients
from notifications.emails import iso, update_recipients
from notifications.models import EmailKind
from notifications.outbox import Email, enqueue

# The clocks an owner must see to before leaving, by the word the email uses for each.
DUE_COLUMNS = {"ack": "ack_due_at", "update": "update_due_at", "promised": "promised_update_at",
               "waiting": "waiting_ends_at"}


@dataclass(frozen=True)
class Moments:
    ends_at: datetime  # the closure's last day ends
    back_at: datetime  # the office opens again
    now: datetime


def display_name(user) -> str:
    return person_name(user)


def first_due(issue: Issue, before: datetime) -> tuple[str, datetime] | None:
    """The issue's earliest clock that falls before `before`, with its word (None: nothing is due by then)."""
    due = [(getattr(issue, column), word) for word, column in DUE_COLUMNS.items()
           if getattr(issue, column) is not None and getattr(issue, column) < before]
    if not due:
        return None
    moment, word = min(due)
    return word, moment


def _closure_facts(closure: Closure, moments: Moments) -> dict:
    return {"first_day": closure.first_day.isoformat(), "last_day": closure.last_day.isoformat(),
            "back_at": iso(moments.back_at), "time_zone": closure.calendar.time_zone}


# --- to staff: whoever must act on each issue due before the office is back -----------------------------


def owners(closure: Closure, issues: list[Issue], moments: Moments) -> dict[int, list[str]]:
    """One email per person who must act (the owner, else a stand-in) listing their issues due before the
    closure ends: "post an update before you leave". Returns, per issue, the names of the people told."""
    due = {issue.pk: found for issue in issues if (found := first_due(issue, moments.ends_at))}
    if not due:
        return {}
    reach = recipients.reach([issue for issue in issues if issue.pk in due], at=moments.now)
    lines, people, told = defaultdict(list), {}, defaultdict(list)
    for issue in issues:
        if issue.pk not in due:
            continue
        word, moment = due[issue.pk]
        for person in reach[issue.pk].responsible():
            people[person.user.pk] = person.user
            lines[person.user.pk].append(
                {"id": issue.pk, "reference": issue.reference, "title": issue.title, "customer": issue.customer.name,
                 "severity": issue.severity, "clock": word, "due_at": iso(moment), "overdue": moment <= moments.now,
                 "owner": None if person.role == recipients.Role.OWNER else _owner_name(issue)})
    emails = []
    for pk, user in people.items():
        if not user.email:
            continue
        emails.append(Email(recipient=user.email, recipient_name=display_name(user),
                            language=Profile.language_of(user), kind=EmailKind.CLOSURE_OWNER,
                            dedupe_key=f"closure:{closure.pk}:staff:{pk}",
                            context={**_closure_facts(closure, moments),
                                     "issues": sorted(lines[pk], key=lambda line: line["due_at"])}))
        for line in lines[pk]:
            told[line["id"]].append(display_name(user))
    enqueue(emails, now=moments.now)
    return told


def _owner_name(issue: Issue) -> str | None:
    return display_name(issue.owner) if issue.owner is not None else None


# --- to customers: one notice per contact, in their language --------------------------------------------


def contacts(closure: Closure, issues: list[Issue], moments: Moments) -> dict[int, list[str]]:
    """One notice per contact who receives updates on any of these open issues: the closed dates, the day we
    are back, each of their issues with its owner and when they hear next, and where to write if something is
    urgent. A contact who muted updates, or whose mail bounced for good, hears nothing. Returns, per issue,
    the addresses told."""
    to = update_recipients(issues)
    theirs, by_pk = defaultdict(list), {}
    for issue in issues:
        for contact in to.get(issue.pk, []):
            by_pk[contact.pk] = contact
            theirs[contact.pk].append(issue)
    if not by_pk:
        return {}
    around_the_clock = not SlaPolicy.objects.filter(severity=Severity.RED, business_time=True).exists()
    facts = _closure_facts(closure, moments)
    emails = [_notice(closure, contact, theirs[pk], facts, around_the_clock, now=moments.now)
              for pk, contact in by_pk.items()]
    written = {row.contact_id for row in enqueue(emails, now=moments.now)}
    return {issue.pk: [contact.email for contact in to.get(issue.pk, []) if contact.pk in written]
            for issue in issues if to.get(issue.pk)}


def _notice(closure: Closure, contact: Contact, issues: list[Issue], facts: dict, around_the_clock: bool, *,
            now: datetime) -> Email:
    customer = issues[0].customer
    urgent_to = customer.team.email or (customer.account_manager.email if customer.account_manager else "")
    return Email(recipient=contact.email, recipient_name=contact.name, language=contact.language,
                 kind=EmailKind.CLOSURE_NOTICE, dedupe_key=f"closure:{closure.pk}:contact:{contact.pk}",
                 contact_id=contact.pk,
                 context={**facts, "customer_name": customer.name, "urgent_to": urgent_to,
                          "urgent_around_the_clock": around_the_clock,
                          "issues": [_next_news(issue, now=now) for issue in issues]})


def _next_news(issue: Issue, *, now: datetime) -> dict:
    """By when the contact hears next about the issue: its acknowledgement, its next update, or, while we
    wait on them, after their answer. A time already past is not promised again: they hear shortly."""
    if issue.status == Status.WAITING_ON_CUSTOMER:
        then, moment = "answer", None
    elif issue.acknowledged_at is None and issue.ack_due_at is not None:
        then, moment = "ack", issue.ack_due_at
    else:
        then, moment = "update", issue.update_due_at
    if moment is not None and moment <= now:
        then, moment = "soon", None
    return {"reference": issue.reference, "title": issue.title, "severity": issue.severity,
            "owner": _owner_name(issue), "next": then, "next_at": iso(moment)}
