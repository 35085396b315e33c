"""Badges and timeline lines. Every badge carries its meaning in words (and a symbol), never colour alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django import template
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from issues import away, urgency
from issues.models import EventKind, Issue, Severity, Status, UndoAction
from issues.sla import Clock, ClockState
from issues.text import person_name
from notifications.models import EmailKind

register = template.Library()

SEVERITY_CLASSES = {
    Severity.RED: "sev-red",
    Severity.ORANGE: "sev-orange",
    Severity.BLUE: "sev-blue",
    Severity.GREEN: "sev-green",
}
SEVERITY_SYMBOLS = {Severity.RED: "▲", Severity.ORANGE: "◆", Severity.BLUE: "●", Severity.GREEN: "○"}


@dataclass(frozen=True)
class Badge:
    state: str
    text: str
    symbol: str = ""
    title: str = ""
    band: str = ""  # the colour, by the share of the window left (issues.urgency)


def span(delta: timedelta) -> str:
    """A short, rounded-down length of time: "45 min", "3 h", "2 d"."""
    minutes = max(int(abs(delta).total_seconds() // 60), 1)
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    if minutes < 48 * 60:
        return _("%(n)d h") % {"n": minutes // 60}
    return _("%(n)d d") % {"n": minutes // (24 * 60)}


def promised_day(at: datetime, now: datetime) -> str:
    """A weekday for a promise within the week ("Fri"), a short date beyond it."""
    local = timezone.localtime(at)
    if local.date() == timezone.localtime(now).date():
        return _("today %(time)s") % {"time": formats.date_format(local, "H:i")}
    if at - now < timedelta(days=6):
        # English says "Fri"; Korean reads better with the whole day name ("금요일").
        return formats.date_format(local, pgettext("weekday of a promised update", "D"))
    return formats.date_format(local, "n/j")


def clock_badge(issue: Issue, now: datetime) -> Badge:
    """The one clock that matters for an open issue, read from the stored columns."""
    clocks = issue.stored_clocks()
    if clocks.update.paused:
        return Badge("paused", _("paused: waiting on customer"), "‖")
    running = [(name, clock) for name, clock in (("ack", clocks.acknowledge), ("update", clocks.update)) if clock.due_at]
    if not running:
        return Badge("stopped", _("no clock running"))
    name, clock = min(running, key=lambda item: item[1].due_at)
    state = clock.state(now)
    due = formats.date_format(timezone.localtime(clock.due_at), "Y-m-d H:i T")
    if state == ClockState.BREACHED:
        text = (_("ack overdue %(time)s") if name == "ack" else _("update overdue %(time)s")) % {
            "time": span(now - clock.due_at)}
        return Badge("breached", text, "⚠", _("Overdue since %(due)s") % {"due": due}, urgency.Band.BREACHED)
    colour = urgency.band(started_at=clock.started_at, due_at=clock.due_at, now=now,
                          red_severity=issue.severity == Severity.RED)
    left = _("%(share)d%% of the window left") % {
        "share": round(100 * urgency.share_left(started_at=clock.started_at, due_at=clock.due_at, now=now))}
    if name == "update" and issue.promised_update_at and state == ClockState.OK:
        return Badge("ok", _("promised %(day)s") % {"day": promised_day(clock.due_at, now)}, "✓",
                     _("Next update promised by %(due)s") % {"due": due} + f" · {left}", colour)
    text = (_("ack due in %(time)s") if name == "ack" else _("update due in %(time)s")) % {
        "time": span(clock.due_at - now)}
    if state == ClockState.AT_RISK:
        return Badge("at_risk", text, "◔", _("At risk: due %(due)s") % {"due": due} + f" · {left}", colour)
    return Badge("ok", text, "◔" if colour == urgency.Band.RED else "", _("Due %(due)s") % {"due": due} + f" · {left}",
                 colour)


@register.inclusion_tag("partials/clock_badge.html")
def clock_badge_for(issue: Issue, now: datetime) -> dict:
    return {"badge": clock_badge(issue, now)}


@register.inclusion_tag("partials/severity_badge.html")
def severity_badge(severity: str) -> dict:
    return {"css": SEVERITY_CLASSES.get(severity, "sev-blue"), "symbol": SEVERITY_SYMBOLS.get(severity, ""),
            "label": Severity(severity).label}


@register.simple_tag
def clock_state(clock: Clock, now: datetime) -> str:
    """The state of one clock in words, for the issue header."""
    return {
        ClockState.OK: _("on time"),
        ClockState.AT_RISK: _("at risk"),
        ClockState.BREACHED: _("overdue"),
        ClockState.PAUSED: _("paused: waiting on customer"),
        ClockState.STOPPED: _("stopped"),
    }[clock.state(now)]


STATUS_LABELS = dict(Status.choices)  # once: Status.values builds its list anew on every call (once a row)


@register.filter
def status_label(status: str) -> str:
    return str(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def _clock_name(value: str) -> str:
    return _("Update clock") if value == "update" else _("Acknowledge clock")


def _due(event) -> str:
    return _local(event, "due_at")


def _day(value: str | None) -> str:
    """A stored ISO date as the timeline shows dates ("" when absent)."""
    day = parse_date(value or "")
    return formats.date_format(day, "Y-m-d (D)") if day else ""


def _local(event, key: str) -> str:
    """A moment stored on the event, in the reader's time zone ("" when absent)."""
    moment = parse_datetime((event.data or {}).get(key) or "")
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i T") if moment else ""


@register.simple_tag
def event_summary(event) -> str:
    """One line telling what a timeline event did, in the reader's language."""
    actor = person_name(event.actor) or _("Inloop")
    kind, old, new = event.kind, event.old_value, event.new_value
    data = event.data or {}
    values = {"actor": actor, "old": old, "new": new, "clock": _clock_name(new), "due": _due(event),
              "name": data.get("name") or data.get("sender") or "", "sender": data.get("sender", ""),
              "subject": data.get("subject", ""), "queued_for": _local(event, "queued_for"),
              "first_day": _day(data.get("first_day")), "last_day": _day(data.get("last_day")),
              "to": ", ".join(data.get("recipients") or []) or _("no contact")}
    if kind == EventKind.CREATED and data.get("via") == "email":
        return _("%(name)s opened the issue by email") % values
    if kind == EventKind.SEVERITY_CHANGED:
        values.update(old=Severity(old).label if old in Severity.values else old, new=Severity(new).label)
    if kind == EventKind.STATUS_CHANGED:
        values.update(old=status_label(old), new=status_label(new))
    if kind == EventKind.BREACH_REPEATED:
        values.update(day=data.get("day", ""))
    if kind in {EventKind.EMAIL_QUEUED, EventKind.EMAIL_SENT}:
        values.update(what=EmailKind(new).label if new in EmailKind.values else new,
                      to=", ".join(data.get("recipients") or [data.get("recipient", "")]))
    if kind in DEADLINE_AND_PROMISE_LINES:
        # A deadline the customer set on their own page names them (the event has no acting user).
        return deadline_or_promise_line(event, actor if event.actor else values["name"] or actor)
    if kind in FEEDBACK_KINDS:
        return feedback_line(event, values["name"])
    if kind == EventKind.ASSIGNED and event.actor and new == actor:
        return _("%(actor)s took it") % values
    if kind == EventKind.UNDONE:
        what = UndoAction(new).label if new in UndoAction.values else new
        return _("%(actor)s undid “%(what)s” before anything reached the customer") % {"actor": actor, "what": what}
    if values["queued_for"] and kind in QUEUED_LINES:
        return str(QUEUED_LINES[kind]) % values
    lines = {
        EventKind.CREATED: _("%(actor)s opened the issue"),
        EventKind.ACKNOWLEDGED: _("%(actor)s acknowledged the issue"),
        EventKind.ASSIGNED: _("%(actor)s assigned it to %(new)s"),
        EventKind.SEVERITY_CHANGED: _("%(actor)s changed the severity from %(old)s to %(new)s"),
        EventKind.STATUS_CHANGED: _("%(actor)s changed the status from %(old)s to %(new)s"),
        EventKind.PUBLIC_UPDATE: _("%(actor)s wrote to the customer"),
        EventKind.INTERNAL_NOTE: _("%(actor)s added an internal note"),
        EventKind.RESOLVED: _("%(actor)s resolved the issue"),
        EventKind.REOPENED: _("%(actor)s reopened the issue"),
        EventKind.CLOCK_STARTED: _("%(clock)s started, due %(due)s"),
        EventKind.CLOCK_RESCHEDULED: _("%(clock)s now due %(due)s"),
        EventKind.CLOCK_PAUSED: _("%(clock)s paused"),
        EventKind.CLOCK_RESUMED: _("%(clock)s resumed, due %(due)s"),
        EventKind.CLOCK_STOPPED: _("%(clock)s stopped"),
        EventKind.CLOCK_WARNED: _("%(clock)s at risk: the owner was reminded"),
        EventKind.CLOCK_BREACHED: _("%(clock)s ran out: the owner and the team lead were told"),
        EventKind.BREACH_CLEARED: _("%(clock)s back on time"),
        EventKind.AUTO_STATUS_EMAIL: _("Automatic status email to the customer"),
        EventKind.EMAIL_QUEUED: _("Email queued (%(what)s) to %(to)s"),
        EventKind.EMAIL_SENT: _("Email sent (%(what)s) to %(to)s"),
        EventKind.CUSTOMER_MESSAGE: _("%(name)s wrote"),
        EventKind.INBOUND_AUTOMATIC: _("Automatic reply from %(sender)s: “%(subject)s” (not acted on)"),
        EventKind.INBOUND_NOT_A_CONTACT: _("%(sender)s wrote, but is not a contact: accept or discard it under "
                                           "Unmatched email"),
        EventKind.CONTACT_UNREACHABLE: _("%(new)s cannot be reached: their email bounced"),
        EventKind.FOLLOWED_UP: _("The customer wrote after it was closed: the answer is in %(new)s"),
        EventKind.WAITING_REMINDER: _("Inloop reminded the customer that we are waiting for their answer"),
        EventKind.WAITING_ENDED: _("No answer from the customer: waiting ended, the update clock runs again and "
                                   "the owner was told"),
        EventKind.CLOSURE_ANNOUNCED: _("Office closed %(first_day)s – %(last_day)s: announced to %(to)s"),
        EventKind.ESCALATED: _("%(clock)s still breached: escalated to %(to)s"),
        EventKind.BREACH_REPEATED: _("%(clock)s still breached, day %(day)s: %(to)s reminded this morning"),
    }
    line = lines.get(kind)
    return line % values if line else str(EventKind(kind).label if kind in EventKind.values else kind)


# The scan held these staff emails for the team's working hours (issues.scan): say when they go.
QUEUED_LINES = {
    EventKind.CLOCK_WARNED: gettext_lazy("%(clock)s at risk: reminder queued for %(queued_for)s"),
    EventKind.CLOCK_BREACHED: gettext_lazy("%(clock)s ran out: notice to the owner and the team lead queued "
                                           "for %(queued_for)s"),
}


# The customer's deadline and promises kept (issues.deadlines, issues.promises): the dates are stored as ISO text.
DEADLINE_AND_PROMISE_LINES = {
    EventKind.DEADLINE_SET: gettext_lazy("%(actor)s noted that the customer needs this by %(date)s"),
    EventKind.DEADLINE_WARNED: gettext_lazy("The customer needs this by %(date)s, a working day away or less: "
                                            "the owner was told"),
    EventKind.PROMISE_KEPT: gettext_lazy("Promise of news by %(date)s kept"),
    EventKind.PROMISE_BROKEN: gettext_lazy("Promise of news by %(date)s broken: no update came by then"),
}


def deadline_or_promise_line(event, actor: str) -> str:
    moment = parse_datetime(event.new_value or "")
    if event.kind == EventKind.DEADLINE_SET and moment is None:
        return _("%(actor)s removed the customer's deadline") % {"actor": actor}
    date = formats.date_format(timezone.localtime(moment), "D Y-m-d H:i") if moment else ""
    return str(DEADLINE_AND_PROMISE_LINES[event.kind]) % {"actor": actor, "date": date}


# After a resolution, the customer's word (issues.feedback).
FEEDBACK_KINDS = {EventKind.SAID_SOLVED, EventKind.SAID_NOT_SOLVED, EventKind.RATED}


def feedback_line(event, name: str) -> str:
    data = event.data or {}
    if event.kind == EventKind.SAID_SOLVED:
        return _("%(name)s said it is solved") % {"name": name}
    if event.kind == EventKind.SAID_NOT_SOLVED:
        if data.get("landed", event.issue_id) != event.issue_id:
            return _("%(name)s said it is not solved; it was closed, so their words opened a new issue") % {"name": name}
        return _("%(name)s said it is not solved, and their words reopened it") % {"name": name}
    values = {"name": name, "score": data.get("score"), "previous": data.get("previous"), "comment": event.body}
    line = (_("%(name)s changed their rating from %(previous)s to %(score)s of 5") if data.get("previous")
            else _("%(name)s rated it %(score)s of 5")) % values
    return _("%(line)s: “%(comment)s”") % {"line": line, "comment": event.body} if event.body else line


CONVERSATION = {EventKind.PUBLIC_UPDATE, EventKind.INTERNAL_NOTE, EventKind.CUSTOMER_MESSAGE,
                EventKind.INBOUND_NOT_A_CONTACT}


@register.filter
def is_conversation(event) -> bool:
    """Written words (updates, notes, descriptions, resolutions) get a card; the rest a compact line."""
    return event.kind in CONVERSATION or (event.kind in {EventKind.CREATED, EventKind.RESOLVED} and bool(event.body))


@register.filter
def is_system(event) -> bool:
    return event.kind.startswith("clock_") or event.kind in {
        EventKind.BREACH_CLEARED, EventKind.AUTO_STATUS_EMAIL, EventKind.EMAIL_QUEUED, EventKind.EMAIL_SENT,
        EventKind.INBOUND_AUTOMATIC, EventKind.WAITING_REMINDER, EventKind.WAITING_ENDED, EventKind.CLOSURE_ANNOUNCED,
        EventKind.DEADLINE_WARNED, EventKind.PROMISE_KEPT, EventKind.PROMISE_BROKEN, EventKind.ESCALATED,
        EventKind.BREACH_REPEATED}


@register.filter
def promised_at(event) -> datetime | None:
    return parse_datetime((event.data or {}).get("promised_update_at") or "")


@register.simple_tag
def owner_away(issue: Issue, now: datetime) -> str:
    """While the owner is away: until when, and who covers meanwhile (the owner stays the owner)."""
    # Pages that annotate ``owner_away_until`` (selectors.issue_page) ask no more when nobody is away.
    if issue.owner_id is None or getattr(issue, "owner_away_until", now) is None:
        return ""
    found = away.contact_while_away(issue, now)
    if found is None:
        return ""
    until, stand_in = found
    return _("%(owner)s is away until %(until)s; %(cover)s covers.") % {
        "owner": person(issue.owner), "until": away.shown_until(until), "cover": person(stand_in)}


@register.simple_tag
def away_period(period) -> str:
    """An away period's days (or moments), first to last: "2026-03-09 – 2026-03-11"."""
    return f"{away.shown_from(period.starts_at)} – {away.shown_until(period.ends_at)}"


@register.filter
def person(user) -> str:
    return person_name(user) or _("unassigned")


@register.simple_tag
def silence(last_heard_at: datetime | None, now: datetime) -> str:
    """How long the customer has gone without news from us, in whole days."""
    if last_heard_at is None:
        return _("never")
    days = (timezone.localtime(now).date() - timezone.localtime(last_heard_at).date()).days
    if days <= 0:
        return _("today")
    return ngettext("%(n)d day ago", "%(n)d days ago", days) % {"n": days}
