"""The inbox's search box: what a typed word finds.

A reference (``ACME-163``, ``#163`` or ``163``) names one issue, whatever its status; words are looked
for in the title, the description, the customer's name, the names and addresses of the issue's contacts
(its reporter and those copied), and the text of its public updates, notes and customer messages.
Searching the timeline and the contacts uses EXISTS subqueries, so an issue with ten matching updates
is still one row. On PostgreSQL, trigram indexes (migration 0012) keep the substring search off a full
read; SQLite reads the rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from issues.ids import parse_id
from issues.models import Contact, EventKind, Issue, IssueEvent

# Timeline entries whose words someone may remember: what we wrote, what we noted, what the customer wrote.
SEARCHED_EVENTS = [EventKind.PUBLIC_UPDATE, EventKind.INTERNAL_NOTE, EventKind.CUSTOMER_MESSAGE, EventKind.RESOLVED]
REFERENCE = re.compile(r"(?:(?P<code>[A-Za-z][A-Za-z0-9]{1,9})-|#)?(?P<number>[0-9]{1,19})", re.ASCII)


@dataclass(frozen=True)
class Reference:
    number: int
    code: str = ""  # the customer's code, upper case; empty when only the number was typed


def reference(q: str) -> Reference | None:
    """The issue reference the whole search text is, if it is one: "ACME-163", "acme-163", "#163", "163"."""
    match = REFERENCE.fullmatch(q.strip())
    number = parse_id(match["number"]) if match else None
    if number is None:
        return None
    return Reference(number, (match["code"] or "").upper())


def by_reference(ref: Reference) -> Q:
    found = Q(pk=ref.number)
    return found & Q(customer__code=ref.code) if ref.code else found


def by_words(q: str) -> Q:
    """Issues whose own text, customer, contacts or timeline contain `q` (case-insensitive)."""
    contacts = Contact.objects.filter(Q(name__icontains=q) | Q(email__icontains=q))
    copied = Issue.cc.through.objects.filter(issue=OuterRef("pk"), contact__in=contacts)
    events = IssueEvent.objects.filter(issue=OuterRef("pk"), kind__in=SEARCHED_EVENTS, body__icontains=q)
    return (Q(title__icontains=q) | Q(description__icontains=q) | Q(customer__name__icontains=q)
            | Q(reporter__in=contacts) | Exists(copied) | Exists(events))
