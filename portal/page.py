"""The customer's page as they read it: the facts at the top and the timeline in their words.

Names are the timeline's (``issues.timeline.person_name``), the owner as our emails name them to customers
(``notifications.kinds.person``: with 님 in Korean, or "our support team"); dates are the emails' dates (``notifications.kinds.when``: weekday, time
and zone), and "when you hear from us next" is the emails' own answer (``notifications.emails.next_news``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from issues.models import EventKind, IssueEvent, Status
from issues.timeline import person_name
from notifications import emails
from notifications.kinds import person, when
from portal import selectors
from portal.access import Visit


@dataclass
class Entry:
    event: IssueEvent
    line: str
    at: str
    ours: bool  # written by us (a colleague or the system), not by someone at the customer
    body: str = ""
    files: list = field(default_factory=list)
    note: str = ""


# Who did it, for the kinds written by someone at the customer (the rest are ours).
THEIRS = {EventKind.CUSTOMER_MESSAGE, EventKind.SAID_SOLVED, EventKind.SAID_NOT_SOLVED}
# The kinds whose text the customer reads under the line.
WITH_TEXT = {EventKind.CREATED, EventKind.PUBLIC_UPDATE, EventKind.CUSTOMER_MESSAGE, EventKind.RESOLVED,
             EventKind.SAID_NOT_SOLVED}


def entry(event: IssueEvent) -> Entry:
    data = event.data or {}
    # Names as they are: each sentence's translation adds what its language puts after a name (님).
    who, name = person_name(event.actor) or _("our support team"), data.get("name", "")
    by_them = event.kind in THEIRS or (event.actor is None and bool(name))  # their deadline, their emailed issue
    files = [item.get("name", "") for item in data.get("attachments", [])] if event.kind in THEIRS else []
    return Entry(event=event, line=_line(event, who=who, name=name), at=when(event.at), ours=not by_them,
                 body=event.body if event.kind in WITH_TEXT else "", files=files, note=_note(event))


def _line(event: IssueEvent, *, who: str, name: str) -> str:
    kind, data = event.kind, event.data or {}
    if kind == EventKind.CREATED and data.get("via") == "email":
        return _("%(name)s opened the issue by email") % {"name": name}
    if kind == EventKind.STATUS_CHANGED:
        return _("Status changed from %(old)s to %(new)s") % {"old": _status(event.old_value),
                                                              "new": _status(event.new_value)}
    if kind == EventKind.DEADLINE_SET:
        return _deadline_line(event, who if event.actor else name)
    lines = {
        EventKind.CREATED: _("%(who)s opened the issue"),
        EventKind.ACKNOWLEDGED: _("%(who)s acknowledged the issue"),
        EventKind.PUBLIC_UPDATE: _("%(who)s wrote"),
        EventKind.CUSTOMER_MESSAGE: _("%(name)s wrote"),
        EventKind.AUTO_STATUS_EMAIL: _("Automatic status email: no news to add yet"),
        EventKind.WAITING_REMINDER: _("We reminded you that we are waiting for your answer"),
        EventKind.RESOLVED: _("%(who)s resolved the issue"),
        EventKind.REOPENED: _("The issue was reopened"),
        EventKind.SAID_SOLVED: _("%(name)s said it is solved"),
        EventKind.SAID_NOT_SOLVED: _("%(name)s said it is not solved"),
    }
    return lines[kind] % {"who": who, "name": name}


def _note(event: IssueEvent) -> str:
    """What an update or an automatic email said comes next."""
    data = event.data or {}
    if event.kind == EventKind.PUBLIC_UPDATE and data.get("asks"):
        return _("We are waiting for your answer.")
    key = {EventKind.PUBLIC_UPDATE: "promised_update_at", EventKind.AUTO_STATUS_EMAIL: "next_update_at"}.get(event.kind)
    moment = parse_datetime(data.get(key) or "") if key else None
    if moment is None:
        return ""
    if event.kind == EventKind.PUBLIC_UPDATE:
        return _("Next update promised by %(date)s") % {"date": when(moment)}
    return _("Next update by %(date)s") % {"date": when(moment)}


def _deadline_line(event: IssueEvent, who: str) -> str:
    moment = parse_datetime(event.new_value or "")
    if moment is None:
        return _("%(who)s removed the deadline") % {"who": who}
    return _("%(who)s set the deadline to %(date)s") % {"who": who, "date": when(moment)}


def _status(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


def context(visit: Visit, *, now: datetime | None = None, **forms) -> dict:
    """Everything the issue page shows, in a fixed number of queries."""
    now = now or timezone.now()
    issue = visit.issue
    news = emails.next_news(issue, now=now)
    return {
        "visit": visit, "issue": issue, "contact": visit.contact, "status_label": Status(issue.status).label,
        "owner_name": person(issue.owner, get_language()), "deadline": when(issue.customer_deadline)
        if issue.customer_deadline else "", "news": _dates(news),
        "entries": [entry(event) for event in selectors.public_timeline(issue)],
        "answer_url": reverse("portal:answer", kwargs={"token": visit.token}),
        "deadline_url": reverse("portal:deadline", kwargs={"token": visit.token}),
        "issues_url": reverse("portal:issues", kwargs={"token": visit.token}),
        "follows_up": issue.status == Status.CLOSED, **forms,
    }


def _dates(news: dict) -> dict:
    """The stored ISO moments of ``emails.next_news`` as the page prints them."""
    return {key: when(parse_datetime(value)) if key.endswith(("_at", "_by")) and value else value
            for key, value in news.items()}
