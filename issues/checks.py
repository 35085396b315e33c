"""What the services refuse, with the message the person sees next to the field."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from issues import sla, text
from issues.clocks import clock_setup
from issues.models import Customer, EventKind, Issue, Severity, Status
from issues.timeline import person_name


def clean_title(title: str) -> str:
    """The title on one line; a title of nothing but invisible characters is no title."""
    title = text.one_line(title)
    if not title:
        raise ValidationError({"title": _("Give the issue a title.")})
    if len(title) > Issue._meta.get_field("title").max_length:
        raise ValidationError({"title": _("Keep the title under 200 characters.")})
    return title


def clean_message(body: str, *, field: str = "body", required: str | None = None) -> str:
    """An update, note, description or resolution as it will be stored: trimmed at its ends (invisible
    characters too), without NUL characters (which PostgreSQL cannot store and no one types), and no
    longer than MESSAGE_MAX_CHARS. `required` is what to say when it is empty; None lets it be empty."""
    body = text.trim((body or "").replace("\x00", ""))
    if not body and required:
        raise ValidationError({field: required})
    limit = settings.MESSAGE_MAX_CHARS
    if len(body) > limit:
        raise ValidationError({field: _("Keep it to %(limit)s characters at most (this one has %(length)s): "
                                         "split it into several messages.")
                               % {"limit": f"{limit:,}", "length": f"{len(body):,}"}})
    return body


def check_severity(severity: str) -> None:
    if severity not in Severity.values:
        raise ValidationError(
            {"severity": _("Unknown severity “%(severity)s”: use red, orange, blue or green.") % {"severity": severity}}
        )


def check_owner(customer: Customer, owner) -> None:
    if not owner.is_active or not customer.team.has_person(owner):
        raise ValidationError(
            {"owner": _("%(owner)s is not in %(team)s, the team of %(customer)s.")
             % {"owner": person_name(owner), "team": customer.team, "customer": customer}}
        )


def check_open(issue: Issue) -> None:
    if not issue.is_open:
        raise ValidationError(_("This issue is %(status)s.") % {"status": Status(issue.status).label.lower()})


def check_not_closed(issue: Issue) -> None:
    if issue.status == Status.CLOSED:
        raise ValidationError(_("This issue is closed; open a new issue instead."))


def check_can_wait(issue: Issue, recipients: list) -> None:
    """Waiting on the customer needs an open issue and someone at the customer who receives the question."""
    if not issue.is_open:
        raise ValidationError(_("Only an open issue can wait on the customer."))
    if not recipients:
        raise ValidationError(_("Nobody at %(customer)s receives this issue's emails, so nobody could answer: "
                                "call them, or add a contact who receives its emails.")
                              % {"customer": issue.customer.name})


def check_promise(issue: Issue, promised_update_at: datetime, *, now: datetime) -> None:
    if timezone.is_naive(promised_update_at):
        raise ValidationError({"promised_update_at": _("Give the promised date with its time zone.")})
    if promised_update_at <= now:
        raise ValidationError({"promised_update_at": _("The promised update must be in the future.")})
    rules, calendar = clock_setup(issue)
    limit = sla.promise_limit(now=now, rules=rules, calendar=calendar)
    if promised_update_at > limit:
        raise ValidationError(
            {"promised_update_at": _("Promise the next update by %(limit)s at the latest: the policy for this severity "
                                     "asks for news that often.") % {"limit": timezone.localtime(limit).strftime("%Y-%m-%d %H:%M")}}
        )


# What a form built on an earlier page load may no longer change, and the events that would have changed it.
SEEN_FIELDS = {
    "severity": [EventKind.SEVERITY_CHANGED],
    "status": [EventKind.STATUS_CHANGED, EventKind.ACKNOWLEDGED, EventKind.RESOLVED, EventKind.REOPENED],
    "owner": [EventKind.ASSIGNED],
}


def seen_value(issue: Issue, field: str) -> str:
    """How a form records the state it was built on: the field's value as text ("" for no owner)."""
    return str(issue.owner_id or "") if field == "owner" else getattr(issue, field)


def check_seen(issue: Issue, field: str, seen: str | None) -> None:
    """Refuse a change made on a page that showed an older state of this field, saying who changed it and
    when, instead of silently overwriting their change (a red issue turned green by a stale form)."""
    if seen is None or seen == seen_value(issue, field):
        return
    event = issue.events.filter(kind__in=SEEN_FIELDS[field]).order_by("-at", "-pk").select_related("actor").first()
    if event is None:
        return  # nothing changed it since the issue was opened: the page's value was not real
    facts = {"who": person_name(event.actor) or _("Someone"),
             "when": timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M")}
    if field == "severity":
        message = _("%(who)s changed the severity to “%(value)s” at %(when)s, after this page was loaded. "
                    "Reload to see it, then choose again.") % {**facts, "value": Severity(issue.severity).label}
    elif field == "status":
        message = _("%(who)s changed the status to “%(value)s” at %(when)s, after this page was loaded. "
                    "Reload to see it, then choose again.") % {**facts, "value": Status(issue.status).label}
    else:
        message = _("%(who)s gave the issue to %(value)s at %(when)s, after this page was loaded. "
                    "Reload to see it, then choose again.") % {**facts, "value": person_name(issue.owner) or _("nobody")}
    raise ValidationError({field: message})
