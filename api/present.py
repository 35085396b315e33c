"""Rows as the API says them: plain dicts matching ``api.schemas``, built from what the selectors read (no
query of their own, except where noted)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse

from issues import selectors
from issues.models import Contact, Issue, IssueEvent
from issues.sla import Clock, ClockState
from issues.templatetags.inloop import event_summary
from issues.text import person_name


def person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "name": person_name(user)}


def contact_ref(contact: Contact | None) -> dict | None:
    if contact is None:
        return None
    return {"id": contact.pk, "name": contact.name, "email": contact.email}


def clock(state: Clock, now: datetime, breached_at: datetime | None) -> dict:
    return {"state": state.state(now).value, "started_at": state.started_at, "due_at": state.due_at,
            "at_risk_at": state.at_risk_at, "breached_at": breached_at}


def real(moment: datetime | None) -> datetime | None:
    """The selectors stand in NEVER for "no due time" so the order is the same everywhere; say it as none."""
    return None if moment is None or moment >= selectors.NEVER else moment


def issue_summary(issue: Issue, request: HttpRequest, now: datetime) -> dict:
    clocks = issue.stored_clocks()
    states = {clocks.acknowledge.state(now), clocks.update.state(now)}
    return {
        "id": issue.pk, "reference": issue.reference, "url": request.build_absolute_uri(issue.get_absolute_url()),
        "title": issue.title, "severity": issue.severity, "status": issue.status,
        "customer": {"slug": issue.customer.slug, "name": issue.customer.name, "code": issue.customer.code},
        "customer_reachable": getattr(issue, "customer_reachable", True), "owner": person(issue.owner),
        "created_at": issue.created_at, "updated_at": issue.updated_at, "acknowledged_at": issue.acknowledged_at,
        "resolved_at": issue.resolved_at, "promised_update_at": issue.promised_update_at,
        "customer_deadline": issue.customer_deadline, "customer_last_heard_at": issue.customer_last_heard_at,
        "next_due_at": real(min((due for due in (issue.ack_due_at, issue.update_due_at) if due), default=None)),
        "breached": ClockState.BREACHED in states,
        "at_risk": ClockState.AT_RISK in states and ClockState.BREACHED not in states,
        "clocks": {"acknowledge": clock(clocks.acknowledge, now, issue.ack_breached_at),
                   "update": clock(clocks.update, now, issue.update_breached_at)},
    }


def event(entry: IssueEvent) -> dict:
    return {"id": entry.pk, "kind": entry.kind, "summary": str(event_summary(entry)), "at": entry.at,
            "actor": person(entry.actor), "public": entry.public, "body": entry.body, "old_value": entry.old_value,
            "new_value": entry.new_value, "data": entry.data or {}}


def issue_detail(issue: Issue, request: HttpRequest, now: datetime) -> dict:
    """The issue page's header, clocks, recipients and timeline (two queries: contacts, timeline)."""
    contacts = selectors.issue_contacts(issue)
    return {
        **issue_summary(issue, request, now),
        "description": issue.description, "reporter": contact_ref(issue.reporter),
        "recipients": [contact_ref(contact) for contact in contacts.recipients],
        "closed_at": issue.closed_at, "last_public_update_at": issue.last_public_update_at,
        "waiting_remind_at": issue.waiting_remind_at, "waiting_ends_at": issue.waiting_ends_at,
        "timeline": [event(entry) for entry in selectors.timeline(issue)],
    }


def customer_summary(customer) -> dict:
    return {
        "slug": customer.slug, "name": customer.name, "code": customer.code, "language": customer.language,
        "team": {"id": customer.team.pk, "name": customer.team.name},
        "account_manager": person(customer.account_manager), "tier": customer.tier.name if customer.tier else None,
        "open_issue_count": customer.open_count, "contact_count": customer.contact_count,
        "last_heard_at": customer.last_heard_at,
    }


def contact(entry: Contact) -> dict:
    return {"id": entry.pk, "name": entry.name, "email": entry.email, "language": entry.language,
            "receives_updates": entry.receives_updates, "follows_all_issues": entry.follows_all_issues,
            "undeliverable_since": entry.undeliverable_at}


def customer_detail(customer, request: HttpRequest) -> dict:
    issues = request.build_absolute_uri(f"{reverse('api:list_issues')}?customer={customer.slug}")
    return {**customer_summary(customer), "contacts": [contact(entry) for entry in customer.contacts.all()],
            "issues": issues}
