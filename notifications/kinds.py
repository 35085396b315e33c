"""What each kind of email says: the facts a row's template needs, worked out by the worker that renders it.

This runs in the worker, after the commit (``notifications.compose``); who is told, when and under which
key was decided inside the change's transaction (``notifications.emails``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from issues import away
from issues.models import Clock, Issue, Severity, Status
from issues.text import person_name
from notifications.links import issue_link, site_url
from notifications.models import EmailKind
from notifications.recipients import Role

SEVERITY_COLOURS = {"red": "#dc3545", "orange": "#c2570c", "blue": "#0d6efd", "green": "#198754"}
# Dates in emails: with the weekday, a 24-hour time and the zone, so "by Friday" is never ambiguous, not
# even to a customer in another country: "Mon 2 Nov 2026, 10:00 (KST)".
DATE_FORMATS = {"en": "D j M Y, H:i (T)", "ko": "Y년 n월 j일 (D) H:i (T)"}




@dataclass
class Lookups:
    """Everything a batch of rows refers to, loaded once per batch."""

    issues: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)
    page_link_generations: dict = field(default_factory=dict)  # contact pk -> its customer page link generation


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
    name = person_name(user)
    return f"{name}님" if language == "ko" else name


def customer_facts(issue: Issue, language: str, *, at: datetime | None = None) -> list:
    """Status, owner and reference; while the owner is away at `at` (when the email is written), whom to
    reach until they are back."""
    facts = [(_("Status"), Status(issue.status).label), (_("Owner"), person(issue.owner, language))]
    if stand_in := away.contact_while_away(issue, at or timezone.now()):
        until, colleague = stand_in
        facts.append((lazy(lambda: _("Your contact until %(day)s") % {"day": away_day(until)}, str)(),
                      person(colleague, language)))
    return [*facts, (_("Reference"), issue.reference)]


# A period's last day in an email: "12 March" (a whole day: back the next morning), else with the time.
AWAY_DAY_FORMATS = {"en": ("j F", "j F, H:i"), "ko": ("n월 j일", "n월 j일 H:i")}


def away_day(until: datetime) -> str:
    """When someone is back, as "until …" reads: the last whole day away, else the moment they are back."""
    whole, moment = AWAY_DAY_FORMATS.get(translation.get_language(), AWAY_DAY_FORMATS["en"])
    local = timezone.localtime(until)
    if local.hour == local.minute == local.second == 0:
        return formats.date_format(local - timedelta(days=1), whole)
    return formats.date_format(local, moment)


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
            "promised": context.get("promised", False), "next_update_at": _moment(context.get("next_update_at")),
            "waiting": context.get("waiting", False), "remind_at": _moment(context.get("remind_at")),
            "ends_at": _moment(context.get("ends_at"))}


def _waiting_reminder_context(context: dict, lookups: Lookups, language: str) -> dict:
    """The question we asked (the update that started the wait), and when we go on without an answer."""
    question = lookups.events.get(context.get("event"))
    return {"question": question.body if question else "", "asked_at": question.at if question else None,
            "ends_at": _moment(context.get("ends_at"))}


def _waiting_ended_context(context: dict, lookups: Lookups, language: str) -> dict:
    return {**_clock_context(context, lookups, language), "since": _moment(context.get("since"))}


def _auto_context(context: dict, lookups: Lookups, language: str) -> dict:
    latest = lookups.events.get(context.get("latest_event"))
    return {"latest_update": latest.body if latest else "", "latest_update_at": latest.at if latest else None,
            "next_update_at": _moment(context.get("next_update_at"))}


def _told_context(context: dict) -> dict:
    """Why this colleague is told (``recipients.Role``), for the sentence that says so. Rows queued before
    roles were stored name the owner, the account manager of an unowned issue, or the lead."""
    unowned, is_owner = context.get("unowned", False), context.get("is_owner", True)
    role = context.get("role") or (Role.ACCOUNT_MANAGER if unowned else Role.OWNER if is_owner else Role.LEAD)
    covering_until = _moment(context.get("covering_until"))
    return {"role": role, "is_owner": is_owner, "unowned": unowned, "owner_gone": context.get("owner_gone", False),
            "needs_owner": context.get("needs_owner", False), "covering": context.get("covering", ""),
            "covering_until": lazy(lambda: away_day(covering_until), str)() if covering_until else ""}


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


def _breaches_context(context: dict, lookups: Lookups, language: str) -> dict:
    """A burst's breaches told to one person at once (``emails.breach_notices``): the first ones listed, theirs to
    answer first, each with its customer, due time and why this person hears of it; the rest behind one link."""
    lines = []
    for line in context.get("issues", []):
        issue = lookups.issues.get(line["id"])
        if issue is None:  # deleted since: nothing to open
            continue
        lines.append({"reference": issue.reference, "title": issue.title, "customer": issue.customer.name,
                      "url": issue_link(issue.pk), "compose_url": issue_link(issue.pk, compose=True),
                      "due": _moment(line["due_at"]), "raised": line.get("raised", False),
                      "owner": person(issue.owner, language) if issue.owner_id else "", "severity_label": Severity(issue.severity).label,
                      "severity_colour": SEVERITY_COLOURS[issue.severity], **_told_context(line)})
    count = context.get("count", len(lines))
    return {"clock_name": Clock(context["clock"]).label, "issues": lines, "count": count,
            "yours": context.get("yours", 0), "more": max(count - len(context.get("issues", [])), 0),
            "overdue_url": site_url(f"{reverse('inbox')}?clock=breached")}


def _digest_lines(section: dict) -> list[dict]:
    return [{**line, "url": issue_link(line["id"]), "due": _moment(line["due"]), "since": _moment(line.get("since")),
             "severity_label": Severity(line["severity"]).label, "severity_colour": SEVERITY_COLOURS[line["severity"]]}
            for line in section["issues"]]


def _digest_context(context: dict, lookups: Lookups, language: str) -> dict:
    """The digest's sections as queued (what needed attention that morning), with links and dates. A team's
    section links to its dashboard; the person's own section (no name) to their inbox."""
    inbox, dashboard = reverse("inbox"), reverse("dashboard")
    sections = [{**team, "issues": _digest_lines(team), "link": site_url(f"{dashboard}?team={team['id']}"),
                 "waiting_since": _moment(team.get("waiting_since"))}
                for team in context.get("teams", [])]
    if own := context.get("own"):
        sections.append({**own, "name": "", "issues": _digest_lines(own), "link": site_url(f"{inbox}?owner=me")})
    sections += [{**covered, "name": "", "issues": _digest_lines(covered), "link": site_url(f"{inbox}?owner=covering")}
                 for covered in context.get("covering", [])]
    return {"day": date.fromisoformat(context["day"]), "sections": sections,
            "breached": sum(section["breached"] for section in sections),
            "due_24h": sum(section["due_24h"] for section in sections),
            "repeats": _digest_lines({"issues": context.get("repeats", [])}),
            "preferences_url": site_url(reverse("preferences"))}


def _customer_message_context(context: dict, lookups: Lookups, language: str) -> dict:
    event = lookups.events.get(context.get("event"))
    return {"body": event.body if event else "", "contact_name": (event.data or {}).get("name", "") if event else "",
            "due_at": _moment(context.get("due_at")), "reopened": context.get("reopened", False),
            "resumed": context.get("resumed", False), **_told_context(context)}


def _unreachable_context(context: dict, lookups: Lookups, language: str) -> dict:
    return {**context, "issues": [{**line, "url": issue_link(line["id"])} for line in context.get("issues", [])]}


def _in_zone(value: str | None, zone: ZoneInfo, language: str) -> str | None:
    """A stored moment as the calendar's wall clock shows it, in the email's language (None when absent)."""
    if not value:
        return None
    with translation.override(language):
        return formats.date_format(_moment(value).astimezone(zone), DATE_FORMATS.get(language, DATE_FORMATS["en"]))


def _closure_days(context: dict) -> dict:
    """The closed days (dates: shown as they are), and when the office opens again, on the calendar's clock."""
    zone = ZoneInfo(context["time_zone"])
    back_at = _moment(context["back_at"]).astimezone(zone)
    first_day, last_day = date.fromisoformat(context["first_day"]), date.fromisoformat(context["last_day"])
    return {"first_day": first_day, "last_day": last_day, "days": (last_day - first_day).days + 1,
            "back_day": back_at.date(), "back_time": back_at.strftime("%H:%M"), "zone": zone,
            "time_zone": context["time_zone"]}


def _closure_owner_context(context: dict, lookups: Lookups, language: str) -> dict:
    facts = _closure_days(context)
    lines = [{**line, "url": issue_link(line["id"]), "due": _in_zone(line["due_at"], facts["zone"], language),
              "severity_label": Severity(line["severity"]).label, "severity_colour": SEVERITY_COLOURS[line["severity"]]}
             for line in context["issues"]]
    return {**facts, "issues": lines}


def _closure_notice_context(context: dict, lookups: Lookups, language: str) -> dict:
    facts = _closure_days(context)
    lines = [{**line, "owner_name": _named(line["owner"], language), "red": line["severity"] == Severity.RED,
              "next_at": _in_zone(line["next_at"], facts["zone"], language)} for line in context["issues"]]
    return {**facts, "issues": lines, "customer_name": context["customer_name"], "urgent_to": context["urgent_to"],
            "urgent_around_the_clock": context["urgent_around_the_clock"]}


def _named(name: str | None, language: str) -> str:
    """A colleague's name stored when the email was queued, as ``person`` names them."""
    if not name:
        return person(None, language)
    return f"{name}님" if language == "ko" else name


def _deadline_context(context: dict, lookups: Lookups, language: str) -> dict:
    """The customer's deadline the warning was about (the issue may carry another one by now)."""
    return {"deadline": _moment(context.get("deadline")), "passed": context.get("passed", False),
            **_told_context(context)}


def _ladder_context(context: dict, lookups: Lookups, language: str) -> dict:
    """A breach that still stands (``notifications.escalations``, ``notifications.repeats``): when it was
    recorded, which day of it this is, and whether a superuser hears for want of an escalation contact."""
    return {**_clock_context(context, lookups, language), "breached_at": _moment(context.get("breached_at")),
            "day": context.get("day"), "fallback": context.get("fallback", False)}


def _page_copy_context(context: dict, lookups: Lookups, language: str) -> dict:
    """What was done on the customer page (``portal``): an answer (its text and files) or a deadline."""
    return {"action": context.get("action", ""), "text": context.get("text", ""), "files": context.get("files", []),
            "deadline": _moment(context.get("deadline"))}


def _fresh_links_context(context: dict, lookups: Lookups, language: str) -> dict:
    """The contact's issues as queued, each with its own link (``portal.services.send_fresh_links``)."""
    return {"issues": [{**line, "status": Status(line["status"]).label} for line in context.get("issues", [])]}


def _feedback_copy_context(context: dict, lookups: Lookups, language: str) -> dict:
    """What the contact said after the resolution (``issues.feedback``): solved, not solved with their words, or a
    rating with its comment."""
    about = lookups.events.get(context.get("event"))
    return {"said": context.get("said", ""), "score": context.get("score"), "words": about.body if about else "",
            "follow_up": context.get("follow_up", False)}


def _low_rating_context(context: dict, lookups: Lookups, language: str) -> dict:
    rated = lookups.events.get(context.get("event"))
    data = (rated.data or {}) if rated else {}
    return {"score": data.get("score"), "comment": rated.body if rated else "", "contact_name": data.get("name", ""),
            **_told_context(context)}


CONTEXT_FOR_KIND = {
    EmailKind.PAGE_COPY: _page_copy_context,
    EmailKind.FRESH_LINKS: _fresh_links_context,
    EmailKind.ACKNOWLEDGED: _acknowledged_context,
    EmailKind.PUBLIC_UPDATE: _event_context,
    EmailKind.RESOLVED: lambda c, lookups, language: {"body": c.get("body", "")},
    EmailKind.AUTO_STATUS: _auto_context,
    EmailKind.ASSIGNED: _actor_context,
    EmailKind.REOPENED: _actor_context,
    EmailKind.RED_ISSUE: _actor_context,
    EmailKind.AT_RISK: _clock_context,
    EmailKind.BREACH: _clock_context,
    EmailKind.BREACHES: _breaches_context,
    EmailKind.DIGEST: _digest_context,
    EmailKind.RECEIPT: lambda c, lookups, language: {"due_at": _moment(c.get("due_at"))},
    EmailKind.CUSTOMER_MESSAGE: _customer_message_context,
    EmailKind.CONTACT_UNREACHABLE: _unreachable_context,
    EmailKind.WAITING_REMINDER: _waiting_reminder_context,
    EmailKind.WAITING_ENDED: _waiting_ended_context,
    EmailKind.CLOSURE_OWNER: _closure_owner_context,
    EmailKind.CLOSURE_NOTICE: _closure_notice_context,
    EmailKind.DEADLINE_AT_RISK: _deadline_context,
    EmailKind.ESCALATION: _ladder_context,
    EmailKind.BREACH_REPEAT: _ladder_context,
    EmailKind.FEEDBACK_COPY: _feedback_copy_context,
    EmailKind.LOW_RATING: _low_rating_context,
}
