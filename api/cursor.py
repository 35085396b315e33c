"""Cursor pagination of the issue list, in the inbox's order (most urgent first).

The inbox's order depends on the moment it is read (an issue at risk now is breached an hour later), so a
walk reads every page as of its first page's moment: the cursor carries that moment and the sort key of the
last issue returned, and the next page starts strictly after that key (keyset, never an offset). Issues
opened meanwhile take their place in that order: after the cursor they appear once, before it not at all;
the issues that were there are each returned exactly once, however many are opened during the walk. An issue
changed during the walk (acknowledged, regraded) may move past the cursor: a client that must see every
change reads again from the first page.

The cursor is signed (``django.core.signing``): opaque to clients, refused when altered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import F, Field, Func, QuerySet, Value

from issues.models import Issue, Severity

SALT = "api.issues.cursor"
# The inbox's ORDER BY (issues.selectors.with_urgency), as annotations a filter can compare.
KEY = ("clock_rank", "severity_first", "urgent_at", "severity_rank", "created_at", "pk")


class BadCursor(Exception):
    """A cursor that was altered, or made by another version of the list."""


@dataclass(frozen=True)
class Cursor:
    now: datetime
    after: tuple | None = None  # the sort key of the last issue returned; None: the first page

    def encode(self) -> str:
        return signing.dumps({"v": 1, "now": self.now.isoformat(), "after": encode_key(self.after)},
                             salt=SALT, compress=True)

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            data = signing.loads(value, salt=SALT)
            return cls(now=datetime.fromisoformat(data["now"]), after=decode_key(data["after"]))
        except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
            raise BadCursor from error


def encode_key(key: tuple | None) -> list | None:
    if key is None:
        return None
    rank, severity_first, urgent_at, severity_rank, created_at, pk = key
    return [rank, severity_first, urgent_at.isoformat(), severity_rank, created_at.isoformat(), pk]


def decode_key(value: list | None) -> tuple | None:
    if value is None:
        return None
    rank, severity_first, urgent_at, severity_rank, created_at, pk = value
    return (int(rank), int(severity_first), datetime.fromisoformat(urgent_at), int(severity_rank),
            datetime.fromisoformat(created_at), int(pk))


def sortable(issues: QuerySet) -> QuerySet:
    """The inbox's queryset with the one sort term it leaves unnamed (the severity's rank) named."""
    return issues.annotate(severity_rank=Severity.urgency())


class Row(Func):
    """A row value, ``(a, b, c)``: compared as a whole, in order, each term computed once (PostgreSQL, SQLite)."""

    template = "(%(expressions)s)"
    output_field = Field()


def after(issues: QuerySet, key: tuple | None) -> QuerySet:
    """Issues strictly after `key` in the order: one row comparison, every term ascending."""
    if key is None:
        return issues
    return issues.alias(sort_key=Row(*(F(name) for name in KEY))).filter(
        sort_key__gt=Row(*(Value(value) for value in key)))


def key_of(issue: Issue) -> tuple:
    return tuple(getattr(issue, name) for name in KEY)
