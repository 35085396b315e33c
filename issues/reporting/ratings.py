"""What customers said after resolutions (``issues.feedback``), for the team lead: per owner and per customer
over the last 90 local days, how many rated, the average rating and the share who said it was solved.

One grouped query per page, whatever the number of ratings: the rows come grouped by owner *and* customer, and
are added up both ways here (a handful of rows: only pairs that were rated).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet, Sum

from issues import periods
from issues.models import Feedback, Team
from issues.reporting.counts import Moment

WINDOW_DAYS = 90


@dataclass
class RatingRow:
    """The feedback given on one owner's (or one customer's) resolutions."""

    name: str = ""  # "" for resolutions nobody owned
    key: object = None  # the owner's pk, or the customer's slug
    rated: int = 0  # ratings given
    points: int = 0  # their sum
    answered: int = 0  # said solved or not solved
    solved: int = 0

    @property
    def average(self) -> float | None:
        return self.points / self.rated if self.rated else None

    @property
    def solved_percent(self) -> int | None:
        """Rounded down, like the other shares of the dashboard; None when nobody said."""
        return self.solved * 100 // self.answered if self.answered else None

    def add(self, row: dict) -> None:
        self.rated += row["rated"]
        self.points += row["points"] or 0
        self.answered += row["answered"]
        self.solved += row["solved_count"]


@dataclass
class Ratings:
    first: date
    last: date
    owners: list[RatingRow] = field(default_factory=list)
    customers: list[RatingRow] = field(default_factory=list)
    team: RatingRow = field(default_factory=RatingRow)

    def __bool__(self) -> bool:
        return bool(self.team.rated or self.team.answered)


def window(moment: Moment) -> tuple[date, date]:
    """The last WINDOW_DAYS local days, today included."""
    last = moment.now.astimezone(moment.zone).date()
    return last - timedelta(days=WINDOW_DAYS - 1), last


def given(team: Team, first: date, last: date, moment: Moment) -> QuerySet:
    """Feedback first given between two local dates (both included) on the team's customers' issues."""
    since, until = periods.local_span(first, last, moment.zone)
    return Feedback.objects.filter(issue__customer__team=team, created_at__gte=since, created_at__lt=until)


def ratings(team: Team, moment: Moment) -> Ratings:
    """Per owner and per customer, lowest average first (where a word with the customer is most needed)."""
    first, last = window(moment)
    rows = given(team, first, last, moment).values(
        "owner", "owner__username", "owner__first_name", "owner__last_name", "issue__customer__slug",
        "issue__customer__name",
    ).annotate(
        rated=Count("pk", filter=Q(score__isnull=False)), points=Sum("score"),
        answered=Count("pk", filter=Q(solved__isnull=False)), solved_count=Count("pk", filter=Q(solved=True)),
    ).order_by()
    owners: dict[object, RatingRow] = defaultdict(RatingRow)
    customers: dict[object, RatingRow] = defaultdict(RatingRow)
    result = Ratings(first, last)
    for row in rows:
        owner = owners[row["owner"]]
        owner.key, owner.name = row["owner"], _full_name(row) if row["owner"] else ""
        customer = customers[row["issue__customer__slug"]]
        customer.key, customer.name = row["issue__customer__slug"], row["issue__customer__name"]
        for total in (owner, customer, result.team):
            total.add(row)
    result.owners, result.customers = _lowest_first(owners.values()), _lowest_first(customers.values())
    return result


def _full_name(row: dict) -> str:
    """As ``User.get_full_name`` (else the username) says it, from the grouped row."""
    return f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"]


def _lowest_first(rows) -> list[RatingRow]:
    return sorted(rows, key=lambda row: (row.average is None, row.average or 0, row.key is None, row.name.lower()))
