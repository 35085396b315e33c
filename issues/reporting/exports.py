"""What team leads take away: the breaches, the per-owner table and the customers' ratings as spreadsheets
(CSV), safe to open in Excel whatever the list separator, and Korean names intact."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.utils.translation import gettext as _

from issues import periods
from issues.models import Breach, Clock, Feedback, Promise, Severity, Team
from issues.reporting.counts import Moment, OwnerRow, display_name
from notifications.models import EmailKind, OutboundEmail

# A spreadsheet runs a cell starting with one of these as a formula ("formula injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A spreadsheet whose list separator is ";" (or that splits on tabs or lines) cuts our "," cells into pieces:
# each piece that would start with a formula sign, after the spaces and opening quote an import skips,
# gets its own apostrophe. Full-width signs too: Korean and Japanese input methods type them.
FORMULA_AFTER_SEPARATOR = re.compile(r"(^|[;,\t\r\n])(?=[\s\"]*[=+\-@＝＋－＠])")


def excel_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets an apostrophe: shown, never run. So does every
    piece of it that a split on another list separator would turn into a formula (``x;=1+1``)."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """The CSV text line by line, with a byte-order mark so Excel reads UTF-8 (Korean names) correctly."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([excel_safe(cell) for cell in header])
    for row in rows:
        yield writer.writerow([excel_safe(cell) for cell in row])


def local(moment_value: datetime | None, moment: Moment) -> str:
    return moment_value.astimezone(moment.zone).strftime("%Y-%m-%d %H:%M") if moment_value else ""


def breach_header() -> list[str]:
    return [_("Issue"), _("Title"), _("Customer"), _("Owner"), _("Severity"), _("Clock"), _("Due at"),
            _("Breached at"), _("Cleared at"), _("Hours late"), _("Promise broken"), _("Lead told"),
            _("Escalated at"), _("Escalated to"), _("Morning reminders")]


def breach_rows(team: Team, first: date, last: date, moment: Moment) -> Iterator[list]:
    """Breaches of the team that happened between two local dates (both included), oldest first. Hours late:
    from the due time to when the breach was cleared, or to now while it lasts.

    The labels are translated now, in the request's language; the rows are read while the response streams."""
    severities = {value: str(label) for value, label in Severity.choices}
    clocks = {value: str(label) for value, label in Clock.choices}
    since, until = periods.local_span(first, last, moment.zone)  # 0001-01-01 and 9999-12-31 are days too
    rows = Breach.objects.filter(
        issue__customer__team=team, breached_at__gte=since, breached_at__lt=until,
    ).select_related("issue__customer", "issue__owner").order_by("breached_at", "pk").annotate(
        broken_promise=broken_in_cycle(), lead_told=lead_told())
    broken = _("yes")

    def row(breach: Breach) -> list:
        issue = breach.issue
        late = (breach.cleared_at or moment.now) - breach.due_at
        return [issue.reference, issue.title, issue.customer.name, display_name(issue.owner) if issue.owner else "",
                severities[breach.severity], clocks[breach.clock], local(breach.due_at, moment),
                local(breach.breached_at, moment), local(breach.cleared_at, moment),
                round(max(late.total_seconds(), 0) / 3600, 1),
                broken if breach.broken_promise and breach.clock == Clock.UPDATE else "",
                breach.lead_told or "", local(breach.escalated_at, moment), breach.escalated_to, breach.repeats]

    return (row(breach) for breach in rows.iterator(chunk_size=2000))


def broken_in_cycle() -> Exists:
    """Whether the breached cycle was promised by a date that passed without news: a promise is made by the
    update that starts its update cycle, so it shares the cycle's start (``issues.promises``)."""
    return Exists(Promise.objects.filter(issue=OuterRef("issue"), made_at=OuterRef("cycle_started_at"),
                                         broken_at__isnull=False))


def lead_told() -> Subquery:
    """Who heard in the lead's part of the breach notice, beside the owner (the ladder's second rung): the
    notice's outbox row, queued by the scan at the breach's instant."""
    return Subquery(OutboundEmail.objects.filter(
        issue=OuterRef("issue"), kind=EmailKind.BREACH, created_at=OuterRef("breached_at"), context__is_owner=False,
    ).annotate(clock=KT("context__clock")).filter(clock=OuterRef("clock")).order_by("pk").values("recipient_name")[:1])


def owner_header() -> list[str]:
    return [_("Owner"), _("Open issues"), _("Breached"), _("Due within 24 h"), _("Oldest unacknowledged since"),
            _("Longest silence since")]


def owner_rows(rows: list[OwnerRow], moment: Moment) -> list[list]:
    return [[display_name(row.owner) if row.owner else _("Unassigned"), row.open, row.breached, row.due_24h,
             local(row.oldest_unacknowledged, moment), local(row.quiet_since, moment)] for row in rows]


def rating_header() -> list[str]:
    return [_("Issue"), _("Title"), _("Customer"), _("Contact"), _("Contact email"), _("Owner"), _("Resolved at"),
            _("Solved"), _("Rating"), _("Comment"), _("Given at"), _("Changed at")]


def rating_rows(feedback: QuerySet[Feedback], moment: Moment) -> Iterator[list]:
    """One line per contact and resolution, oldest first: what they said (solved: yes, no or not said) and their
    rating (1–5, empty when not given). The comment is the customer's own text: ``csv_lines`` defuses formulas."""
    said = {True: _("yes"), False: _("no"), None: ""}
    rows = feedback.select_related("issue__customer", "contact", "owner").order_by("created_at", "pk")

    def row(given: Feedback) -> list:
        issue = given.issue
        return [issue.reference, issue.title, issue.customer.name, given.contact.name, given.contact.email,
                display_name(given.owner) if given.owner else "", local(given.resolved_at, moment),
                said[given.solved], given.score or "", given.comment, local(given.created_at, moment),
                local(given.updated_at, moment)]

    return (row(given) for given in rows.iterator(chunk_size=2000))
