"""Reading issues: the inbox (its filters, in the inbox's order, a cursor per page) and one issue with its timeline."""

from __future__ import annotations

from typing import Literal

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from api import cursor, present
from api.schemas import IssueDetail, IssuePage, Problem
from issues import selectors
from issues.filters import ANY, FILTER_FIELDS, InboxFilterForm
from issues.selectors import BASE_TIER

router = Router(tags=["issues"])
READ_ERRORS = {401: Problem, 404: Problem, 422: Problem, 429: Problem}
DEFAULT_LIMIT, MAX_LIMIT = 25, 100


class IssueFilters(Schema):
    """The inbox's filters, with the inbox's words (issues.filters.InboxFilterForm); empty means any."""

    scope: Literal["", "waiting", "resolved", "closed", "all"] = Field(
        "", description="Empty: open issues. A reference in `q` finds its issue whatever the scope.")
    severity: Literal["", "red", "orange", "blue", "green"] = ""
    status: Literal["", "new", "acknowledged", "in_progress", "waiting_on_customer"] = ""
    owner: str = Field("", description="me, covering, unassigned, or a person's id.")
    customer: str = Field("", description="A customer's slug.")
    team: str = Field("", description="A team's id.")
    tier: str = Field("", description=f"An SLA tier's id, or {BASE_TIER} for customers without a tier.")
    clock: Literal["", "at_risk", "breached", "due_24h", "due_today"] = ""
    q: str = Field("", description="A reference (ACME-42 or 42), words, or a contact's name or address.")
    cursor: str = Field("", description="The `next` link's cursor; empty: the first page.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ApiFilterForm(InboxFilterForm):
    """The inbox's filter form, strict: the inbox hides the team filter from people of one team and the tier
    filter until a customer has a tier, and drops what it cannot read; the API checks both and refuses."""

    def __init__(self, data: QueryDict, *, customers, **kwargs) -> None:
        super().__init__(data, customers=customers, **kwargs)
        if "team" not in self.fields and data.get("team"):
            teams = {(str(c.team_id), c.team.name) for c in customers.select_related("team").only("slug", "team__name")}
            self.fields["team"] = forms.ChoiceField(label=_("Team"), required=False, choices=ANY + sorted(teams))
        if "tier" not in self.fields and data.get("tier"):
            self.fields["tier"] = forms.ChoiceField(label=_("SLA tier"), required=False,
                                                    choices=ANY + [(BASE_TIER, _("No tier"))])


def inbox_query(user, filters: IssueFilters) -> selectors.InboxQuery:
    data = QueryDict(mutable=True)
    for name in FILTER_FIELDS:
        if getattr(filters, name):
            data[name] = getattr(filters, name)
    form = ApiFilterForm(data, customers=selectors.visible_customers(user).only("name", "slug").order_by("name"),
                         people=selectors.people_of(user), user=user)
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return form.query()


def next_link(request: HttpRequest, filters: IssueFilters, token: str) -> str:
    data = QueryDict(mutable=True)
    for name in (*FILTER_FIELDS, "limit"):
        if getattr(filters, name) not in ("", None):
            data[name] = str(getattr(filters, name))
    data["cursor"] = token
    return request.build_absolute_uri(f"{reverse('api:list_issues')}?{data.urlencode()}")


def read_page(rows: QuerySet) -> list:
    """One page in one query. On PostgreSQL without parallel workers: the planner cannot know how many issues
    lie past a cursor, guesses a third, and then sorts every matching issue in parallel workers instead of
    keeping the page's top rows in one process (at 100,000 issues on 2 cores: 151 ms against 81 ms)."""
    if connection.vendor != "postgresql":
        return list(rows)
    with transaction.atomic(), connection.cursor() as session:
        session.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        return list(rows)


@router.get("/issues", response={200: IssuePage, **READ_ERRORS}, operation_id="listIssues",
            summary="List issues, most urgent first, with the inbox's filters", url_name="list_issues")
def list_issues(request: HttpRequest, filters: Query[IssueFilters]) -> dict:
    """The inbox of the token's person: the same filters, the same order. Follow `next` for the next page; a walk
    reads the list as it stood at its first page, so no issue is returned twice or skipped while others are
    opened."""
    user = request.auth.user
    query = inbox_query(user, filters)
    try:
        position = cursor.Cursor.decode(filters.cursor) if filters.cursor else cursor.Cursor(now=timezone.now())
    except cursor.BadCursor:
        raise ValidationError({"cursor": [_("This cursor is not valid: start again from the first page.")]}) from None
    rows = cursor.sortable(selectors.inbox(user, query, now=position.now))
    page = read_page(cursor.after(rows, position.after)[:filters.limit + 1])
    more, page = len(page) > filters.limit, page[:filters.limit]
    now = timezone.now()
    following = cursor.Cursor(position.now, cursor.key_of(page[-1])).encode() if more else None
    return {"items": [present.issue_summary(issue, request, now) for issue in page],
            "next": next_link(request, filters, following) if following else None, "limit": filters.limit}


@router.get("/issues/{id:id}", response={200: IssueDetail, **READ_ERRORS}, operation_id="getIssue",
            summary="One issue with its clocks and timeline", url_name="get_issue")
def get_issue(request: HttpRequest, id: int) -> dict:
    """The issue page's header, clocks, recipients and timeline (public entries and internal notes, newest
    first). Another team's issue is a 404."""
    issue = selectors.issue_page(request.auth.user, id)
    if issue is None:
        raise Http404
    return present.issue_detail(issue, request, timezone.now())
