"""The timeline as a person reads it: a conversation, not a log.

The services write one event per change, and the outbox one line per email queued or sent
(``issues.timeline``, ``notifications``). Read back as they are, the words of the conversation drown in
bookkeeping. ``arrange`` groups the same events, without another query:

- the opening (the description the issue was opened with) stays on top, where a conversation starts;
  the rest stays newest first, so the latest word sits right under the compose box;
- each email is folded into the change that caused it (written in the same transaction, so at the same
  instant; the scan's lines carry their emails' recipients themselves), and each delivery into the email
  it delivered: "sent to 2 contacts";
- routine clock lines (started, rescheduled, paused, warned, ...) are gathered behind one toggle per run;
  a breach, an escalation or a broken promise stays in sight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from issues.models import EventKind, IssueEvent
from notifications.models import LISTING_KINDS

EMAIL_LINES = {EventKind.EMAIL_QUEUED, EventKind.EMAIL_SENT}
# Bookkeeping of the clocks: gathered behind a toggle. What someone must act on is not in this set.
ROUTINE = {
    EventKind.CLOCK_STARTED, EventKind.CLOCK_RESCHEDULED, EventKind.CLOCK_PAUSED, EventKind.CLOCK_RESUMED,
    EventKind.CLOCK_STOPPED, EventKind.CLOCK_WARNED, EventKind.BREACH_CLEARED, EventKind.PROMISE_KEPT,
    *EMAIL_LINES,
}
# Lines that are not somebody's doing: an email caused by the same change goes to the person's line first.
MACHINE = ROUTINE | {EventKind.CLOCK_BREACHED, EventKind.AUTO_STATUS_EMAIL, EventKind.ESCALATED,
                     EventKind.BREACH_REPEATED, EventKind.PROMISE_BROKEN, EventKind.DEADLINE_WARNED}


@dataclass
class Mail:
    """One kind of email queued by one change, to its recipients; `sent` fills in as they are delivered."""

    kind: str
    recipients: list[str]
    sent: set[str] = field(default_factory=set)

    @property
    def delivered(self) -> list[tuple[str, bool | None]]:
        """Each recipient, and whether it was sent yet (None: an email about several issues, whose delivery is
        on no one issue's timeline)."""
        if self.kind in LISTING_KINDS:
            return [(address, None) for address in self.recipients]
        return [(address, address in self.sent) for address in self.recipients]


@dataclass
class Entry:
    event: IssueEvent
    mails: list[Mail] = field(default_factory=list)
    group = False


@dataclass
class Routine:
    """A run of routine lines, newest first, shown folded."""

    entries: list[Entry]
    group = True


@dataclass
class Story:
    opening: Entry | None
    items: list[Entry | Routine]  # newest first

    def __bool__(self) -> bool:
        return self.opening is not None or bool(self.items)


def arrange(events: Iterable[IssueEvent]) -> Story:
    """`events` newest first, as ``issues.selectors.timeline`` reads them."""
    entries = _fold_emails(reversed(list(events)))
    opening = next((entry for entry in entries if entry.event.kind == EventKind.CREATED), None)
    rest = [entry for entry in reversed(entries) if entry is not opening]
    return Story(opening, _gather_routine(rest))


def _fold_emails(chronological: Iterable[IssueEvent]) -> list[Entry]:
    entries: list[Entry] = []
    cause: dict = {}  # instant -> the entry an email written at that instant belongs to
    queued: dict[tuple[str, str], Mail] = {}  # (kind, address) -> the latest email of that kind to it
    for event in chronological:
        data = event.data or {}
        if event.kind == EventKind.EMAIL_SENT:
            mail = queued.get((event.new_value, data.get("recipient", "")))
            if mail is not None:
                mail.sent.add(data.get("recipient", ""))
                continue
        elif event.kind == EventKind.EMAIL_QUEUED and event.at in cause:
            mail = Mail(event.new_value, list(data.get("recipients") or []))
            cause[event.at].mails.append(mail)
            queued.update({(mail.kind, address): mail for address in mail.recipients})
            continue
        entry = Entry(event)
        entries.append(entry)
        # The scan keeps who its emails went to on its own line: {kind: [addresses]}.
        for kind, addresses in (data.get("emails") or {}).items():
            mail = Mail(kind, list(addresses))
            entry.mails.append(mail)
            queued.update({(mail.kind, address): mail for address in mail.recipients})
        current = cause.get(event.at)
        # The latest person's change at that instant wins over the clock lines written with it.
        if event.kind not in EMAIL_LINES and (current is None or event.kind not in MACHINE
                                              or current.event.kind in MACHINE):
            cause[event.at] = entry
    return entries


def _gather_routine(entries: list[Entry]) -> list[Entry | Routine]:
    items: list[Entry | Routine] = []
    for entry in entries:
        if entry.event.kind not in ROUTINE or entry.mails:
            items.append(entry)
        elif items and items[-1].group:
            items[-1].entries.append(entry)
        else:
            items.append(Routine([entry]))
    return items
