"""What a contact may see through their links: the issues they receive, read from the contact's side.

The same rule as ``notifications.emails.update_recipients`` (which reads it from the issue's side): an issue
of the contact's own company that they reported, are copied on, or that they receive because they follow all
their company's issues. A contact whose mail bounced for good receives nothing, so their links open nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from issues.models import IS_OPEN, Contact, EventKind, Issue, IssueEvent, IssueQuerySet


def received_by(contact: Contact) -> IssueQuerySet:
    issues = Issue.objects.filter(customer_id=contact.customer_id)
    if contact.undeliverable_at is not None:
        return issues.none()
    if contact.follows_all_issues:
        return issues
    copied = Issue.cc.through.objects.filter(contact_id=contact.pk).values("issue_id")
    return issues.filter(Q(reporter_id=contact.pk) | Q(pk__in=copied))


def receives(contact: Contact, issue: Issue) -> bool:
    return received_by(contact).filter(pk=issue.pk).exists()


def link_expires_at(issue: Issue) -> datetime | None:
    """An open issue's links work; a resolved or closed one's for CUSTOMER_PAGE_DAYS_AFTER_RESOLUTION days
    after it stopped being open (reopening makes them work again)."""
    if issue.is_open:
        return None
    # Only resolving sets resolved_at and an issue is closed only once resolved: it says when it stopped.
    ended = issue.resolved_at or issue.closed_at or issue.updated_at
    return ended + timedelta(days=settings.CUSTOMER_PAGE_DAYS_AFTER_RESOLUTION)


def linkable(contact: Contact, *, now: datetime) -> IssueQuerySet:
    """The contact's issues whose links work now: open, or resolved within CUSTOMER_PAGE_DAYS_AFTER_RESOLUTION days."""
    since = now - timedelta(days=settings.CUSTOMER_PAGE_DAYS_AFTER_RESOLUTION)
    return received_by(contact).filter(IS_OPEN | Q(resolved_at__gt=since))


def open_issues(contact: Contact) -> IssueQuerySet:
    """The company's open issues this contact receives, most urgent first, for their list."""
    return received_by(contact).open().select_related("customer", "owner").by_urgency()


# What the customer sees of the timeline: what we wrote to them, what they (and their colleagues) wrote, the
# automatic emails they received and the changes we told them about. Never internal notes, clock lines, staff
# notices or email bookkeeping (which name addresses); and only events marked public, whatever their kind.
CUSTOMER_TIMELINE = [
    EventKind.CREATED, EventKind.ACKNOWLEDGED, EventKind.PUBLIC_UPDATE, EventKind.CUSTOMER_MESSAGE,
    EventKind.AUTO_STATUS_EMAIL, EventKind.WAITING_REMINDER, EventKind.STATUS_CHANGED, EventKind.RESOLVED,
    EventKind.REOPENED, EventKind.DEADLINE_SET, EventKind.SAID_SOLVED, EventKind.SAID_NOT_SOLVED,
]


def public_timeline(issue: Issue) -> QuerySet:
    """Newest first: the latest word sits right under the page's header."""
    return (IssueEvent.objects.filter(issue=issue, public=True, kind__in=CUSTOMER_TIMELINE)
            .select_related("actor").order_by("-at", "-pk"))
