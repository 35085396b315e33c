"""What the API reads and writes, typed: the OpenAPI schema and the validation of input come from these.

Times are ISO 8601 with the offset of the site's time zone; input times without an offset are read in it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

Severity = Literal["red", "orange", "blue", "green"]
StatusName = Literal["new", "acknowledged", "in_progress", "waiting_on_customer", "resolved", "closed"]
ClockStateName = Literal["ok", "at_risk", "breached", "paused", "stopped"]


class Problem(Schema):
    """RFC 9457 problem details; ``errors`` names each refused field (``__all__``: the request as a whole)."""

    type: str = Field(examples=["urn:inloop:problem:invalid-input"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: dict[str, list[str]] | None = None


class Person(Schema):
    id: int
    username: str
    name: str


class CustomerRef(Schema):
    slug: str
    name: str
    code: str


class ContactRef(Schema):
    id: int
    name: str
    email: str


class ClockOut(Schema):
    """One clock as the issue page shows it. ``breached_at``: when the scan recorded the breach of this cycle."""

    state: ClockStateName
    started_at: datetime | None
    due_at: datetime | None
    at_risk_at: datetime | None
    breached_at: datetime | None


class Clocks(Schema):
    acknowledge: ClockOut
    update: ClockOut


class IssueSummary(Schema):
    id: int = Field(description="The id in the issue page's address, /issues/<id>/.")
    reference: str = Field(examples=["ACME-42"])
    url: str = Field(description="The issue's page.")
    title: str
    severity: Severity
    status: StatusName
    customer: CustomerRef
    customer_reachable: bool = Field(description="False: no contact of the customer can be emailed.")
    owner: Person | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    promised_update_at: datetime | None = Field(description="The next update promised to the customer.")
    customer_deadline: datetime | None
    customer_last_heard_at: datetime | None
    next_due_at: datetime | None = Field(description="The earlier of the two clocks' due times.")
    breached: bool = Field(description="A clock's due time has passed.")
    at_risk: bool = Field(description="A clock is at risk and none is breached.")
    clocks: Clocks


class Event(Schema):
    id: int
    kind: str = Field(examples=["public_update"])
    summary: str = Field(description="The timeline's line for it, as the issue page says it.")
    at: datetime
    actor: Person | None = Field(description="None: the system or the customer.")
    public: bool = Field(description="Whether the customer may ever see it; false for internal notes.")
    body: str
    old_value: str
    new_value: str
    data: dict[str, Any]


class IssueDetail(IssueSummary):
    description: str
    reporter: ContactRef | None
    recipients: list[ContactRef] = Field(description="Who at the customer receives the issue's emails.")
    closed_at: datetime | None
    last_public_update_at: datetime | None
    waiting_remind_at: datetime | None
    waiting_ends_at: datetime | None
    timeline: list[Event] = Field(description="Newest first, public entries and internal notes, as the page.")


class IssuePage(Schema):
    items: list[IssueSummary]
    next: str | None = Field(description="The next page's address; null on the last page.")
    limit: int


class OpenIssueIn(Schema):
    customer: str = Field(description="The customer's slug.", examples=["acme"])
    title: str = Field(max_length=200)
    description: str = ""
    severity: Severity = "blue"
    reporter: int | None = Field(None, description="A contact id of the customer (GET /api/customers/{slug}).")
    cc: list[int] = Field(default_factory=list, description="Other contact ids who receive the issue's emails.")
    owner: int | None = Field(None, description="A person id of the customer's team; empty: the account manager.")


class AssignIn(Schema):
    owner: int = Field(description="A person id of the customer's team.")


class SeverityIn(Schema):
    severity: Severity


class StatusIn(Schema):
    status: StatusName = Field(description="Resolve with …/resolve (it says what was done); wait on the customer "
                                           "with …/updates and then=wait (it says what we need).")


class UpdateIn(Schema):
    body: str = Field(description="What the customer reads, or the internal note.")
    audience: Literal["public", "internal"] = "public"
    promised_update_at: datetime | None = Field(None, description="Promise the next update by (public only).")
    then: Literal["keep", "in_progress", "wait", "resolve"] | None = Field(
        None, description="After sending: keep the status, mark in progress, wait for their answer, or resolve "
                          "(the text then says what was done). Empty: the first the issue offers.")


class ResolveIn(Schema):
    body: str = Field(description="What was done: the customer reads it in the email that says it is resolved.")


class TeamRef(Schema):
    id: int
    name: str


class CustomerSummary(Schema):
    slug: str
    name: str
    code: str
    language: str
    team: TeamRef
    account_manager: Person | None
    tier: str | None
    open_issue_count: int
    contact_count: int
    last_heard_at: datetime | None = Field(description="When the customer last heard from us about the quietest "
                                                       "open issue.")


class ContactOut(Schema):
    id: int
    name: str
    email: str
    language: str
    receives_updates: bool
    follows_all_issues: bool
    undeliverable_since: datetime | None


class CustomerDetail(CustomerSummary):
    contacts: list[ContactOut]
    issues: str = Field(description="The customer's open issues in the API.")


class Tile(Schema):
    measure: Literal["breached", "due_24h", "due_today", "waiting"]
    total: int
    by_severity: dict[str, int]
    since: datetime | None = Field(description="Waiting: since when the longest wait on a customer has run.")


class OwnerRow(Schema):
    owner: Person | None = Field(description="None: the unassigned issues.")
    open: int
    breached: int
    due_24h: int
    oldest_unacknowledged: datetime | None
    quiet_since: datetime | None


class CustomerRow(Schema):
    slug: str
    name: str
    code: str
    open: int
    breached: int
    quiet_since: datetime | None
    next_promise: datetime | None
    reachable: bool
    tier: str


class DeadlineRisk(Schema):
    id: int
    reference: str
    title: str
    customer_deadline: datetime
    owner: Person | None


class Dashboard(Schema):
    team: TeamRef
    teams: list[TeamRef] = Field(description="The teams whose dashboard this person may read (?team=<id>).")
    now: datetime
    tiles: list[Tile]
    owners: list[OwnerRow]
    customers: list[CustomerRow]
    deadline_risks: list[DeadlineRisk]
