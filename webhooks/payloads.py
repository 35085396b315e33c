"""What an event says, frozen when it is emitted: plain JSON built from the models, inside the change's
transaction. Times are ISO 8601 in UTC; people are named as everywhere else in Inloop."""

from __future__ import annotations

from datetime import UTC, datetime

from issues.models import Contact, Issue, IssueEvent
from issues.text import person_name
from notifications.links import issue_link

# What a change entry may carry besides kind, time and actor: only words a receiver can use.
KEPT_DATA = ("promised_update_at", "asks", "clock", "due_at")


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def envelope(event_type: str, at: datetime, data: dict) -> dict:
    """The Standard Webhooks shape: type, timestamp, data."""
    return {"type": event_type, "timestamp": iso(at), "data": data}


def person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": person_name(user), "email": user.email}


def issue_data(issue: Issue) -> dict:
    """The issue as a receiver needs it to act: who, what, how urgent, where, and when news is due."""
    customer = issue.customer
    team = customer.team
    return {
        "id": issue.pk,
        "reference": issue.reference,
        "title": issue.title,
        "status": issue.status,
        "severity": issue.severity,
        "customer": {"id": customer.pk, "name": customer.name, "code": customer.code},
        "team": {"id": team.pk, "name": team.name},
        "owner": person(issue.owner),
        "url": issue_link(issue.pk),
        "created_at": iso(issue.created_at),
        "updated_at": iso(issue.updated_at),
        "resolved_at": iso(issue.resolved_at),
        "clocks": {
            "acknowledge": {"due_at": iso(issue.ack_due_at), "at_risk_at": iso(issue.ack_at_risk_at)},
            "update": {"due_at": iso(issue.update_due_at), "at_risk_at": iso(issue.update_at_risk_at),
                       "paused": issue.is_open and issue.update_paused_at is not None,
                       "promised_update_at": iso(issue.promised_update_at)},
        },
    }


def change_data(event: IssueEvent) -> dict:
    """One line of the timeline, as a change a receiver reads: what, when, by whom, from what to what."""
    entry = {"kind": event.kind, "at": iso(event.at), "by": person(event.actor), "public": event.public}
    if event.old_value or event.new_value:
        entry.update(old=event.old_value, new=event.new_value)
    if event.body:
        entry["body"] = event.body
    entry.update({name: event.data[name] for name in KEPT_DATA if name in (event.data or {})})
    return entry


def message_data(event: IssueEvent) -> dict:
    """What the customer wrote, and who, through which door (email or their issue page)."""
    data = event.data or {}
    return {"body": event.body, "at": iso(event.at), "via": data.get("via", "email"),
            "contact": {"id": data.get("contact"), "name": data.get("name", ""), "email": data.get("email", "")},
            "attachments": [attachment.get("name", "") for attachment in data.get("attachments") or []
                            if isinstance(attachment, dict)]}


def contact_data(contact: Contact) -> dict:
    return {"id": contact.pk, "name": contact.name, "email": contact.email, "language": contact.language}


def issue_line(issue: Issue) -> dict:
    return {"id": issue.pk, "reference": issue.reference, "title": issue.title, "url": issue_link(issue.pk)}
