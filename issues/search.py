"""The inbox's search box: what a typed word finds.

A reference (``ACME-163``, ``#163`` or ``163``) names one issue, whatever its status; words are looked
for in the title, the description, the customer's name, the names and addresses of the issue's contacts
(its reporter and those copied), and the text of its public updates, notes and customer messages.

The words become one set of issue ids: a UNION of small lookups, each of which reads one table through
its own index (titles, descriptions, timeline bodies, contacts, customers), and the inbox keeps the
issues whose id is in it. One big OR across joined tables would defeat every index and read all issues.
On PostgreSQL a search of three characters or more is answered by the trigram indexes (migration 0012,
``UPPER(column) LIKE``); a shorter one (a Korean two-syllable word such as 배송, a one-syllable word such
as 팀, "UI") has no trigram, so the short-gram indexes (migration 0016: every one- and two-character piece
of the text, upper case) answer it exactly. SQLite has neither and reads the rows with a plain
case-insensitive LIKE, which is fine at its scale. Both give the same answer. On PostgreSQL the titles' and
descriptions' indexes sit on a copy the database keeps beside the issues (``IssueText``), not on the issue
row, which the clocks rewrite all day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import F, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Upper

from issues.ids import parse_id
from issues.models import Contact, Customer, EventKind, Issue, IssueEvent, IssueText

# Timeline entries whose words someone may remember: what we wrote, what we noted, what the customer wrote.
SEARCHED_EVENTS = [EventKind.PUBLIC_UPDATE, EventKind.INTERNAL_NOTE, EventKind.CUSTOMER_MESSAGE, EventKind.RESOLVED]
REFERENCE = re.compile(r"(?:(?P<code>[A-Za-z][A-Za-z0-9]{1,9})-|#)?(?P<number>[0-9]{1,19})", re.ASCII)
# pg_trgm needs three characters to make a trigram; below that the short-gram indexes answer.
TRIGRAM = 3


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
    return Q(pk__in=matching_ids(q))


def matching_ids(q: str) -> QuerySet:
    """The ids of every issue that mentions `q`, all teams and statuses: the caller narrows them. Each
    branch of the UNION reads one table by its own index; UNION also makes an issue found twice one row."""
    customers, contacts = named(q)
    branches = [
        contains(issue_texts(), "title", q).values("pk"),
        contains(issue_texts(), "description", q).values("pk"),
        contains(IssueEvent.objects.filter(kind__in=SEARCHED_EVENTS), "body", q).values("issue_id"),
    ]
    if may_match(customers):
        branches.append(Issue.objects.filter(customer__in=customers).values("pk"))
    if may_match(contacts):
        branches += [Issue.objects.filter(reporter__in=contacts).values("pk"),
                     Issue.cc.through.objects.filter(contact__in=contacts).values("issue_id")]
    # No ORDER BY in a branch (the models' default ordering would sort each one for nothing).
    first, *others = (branch.order_by() for branch in branches)
    return first.union(*others)


def issue_texts() -> QuerySet:
    """Where titles and descriptions are searched, their pk the issue's: on PostgreSQL the table beside the
    issues that holds their text indexes (``IssueText``, migration 0019), elsewhere the issues themselves."""
    return IssueText.objects.all() if connection.vendor == "postgresql" else Issue.objects.all()


# Beyond this many named customers and contacts, their branches join a subquery instead of a list of ids.
NAMED_IDS = 500
CUSTOMER, CONTACT = 1, 2


def named(q: str) -> tuple[list[int] | QuerySet, list[int] | QuerySet]:
    """The customers named like `q`, and the contacts named or addressed like it. Small tables, read first
    in one query: a branch then exists only when something matched, and holds the exact ids, so the
    planner knows how few issues it joins (a subquery it would guess at thousands, and read every open
    issue to join them)."""
    customers = Customer.objects.filter(name__icontains=q).order_by()
    contacts = Contact.objects.filter(Q(name__icontains=q) | Q(email__icontains=q)).order_by()
    rows = list(customers.annotate(table=Value(CUSTOMER)).values_list("table", "pk").union(
        contacts.annotate(table=Value(CONTACT)).values_list("table", "pk"), all=True)[:NAMED_IDS + 1])
    if len(rows) > NAMED_IDS:
        return customers.values("pk"), contacts.values("pk")
    return [pk for table, pk in rows if table == CUSTOMER], [pk for table, pk in rows if table == CONTACT]


def may_match(ids: list[int] | QuerySet) -> bool:
    """A list of ids is known; a subquery (too many to list) is joined unread."""
    return not isinstance(ids, list) or bool(ids)



class ShortGrams(Func):
    """``inloop_short_grams(…)``: the indexed expression of migration 0016, written the same way."""

    function = "inloop_short_grams"
    output_field = ArrayField(TextField())


def contains(rows: QuerySet, field: str, q: str) -> QuerySet:
    """Rows whose `field` contains `q`, case-insensitive, through whichever index can answer."""
    if connection.vendor != "postgresql" or len(q) >= TRIGRAM:
        return rows.filter(**{f"{field}__icontains": q})
    # Short: the piece must be among the text's pieces (index), made upper case by the database as the
    # index's pieces were (Python's upper() differs for a few letters).
    piece = Func(Upper(Value(q)), template="ARRAY[%(expressions)s]", output_field=ArrayField(TextField()))
    return rows.alias(grams=ShortGrams(Upper(F(field)))).filter(grams__contains=piece)

