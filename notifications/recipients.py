"""Which colleagues may hear about an issue, and who stands in when the person in charge is gone.

**The rule** (one place; every staff email and the digest follow it): news of an issue reaches only people
who could open it *now* — active users who lead the customer's team or are among its members, what
``Issue.objects.visible_to`` shows them, read from the issue's side. Whoever left the team, was
deactivated, manages another team's customers or worked for a customer that has since moved to another
team hears nothing more. Superusers see every issue but are told only of their own teams' issues.

**Stand-ins**, when the person whose part it is may not be told:
- *the one who must act* (reminders, breach notices, reopened issues): the owner; an owner who is gone
  hands over to the lead; an unowned issue goes to the account manager, else to the lead;
- *the lead's part* (added to a breach notice, told of a red issue): the lead; a team without a lead
  hands it to the account manager;
- whoever is left when neither the lead nor the account manager may be told: every active member.

**Cover** (``issues.away``), at the moment an email is queued: a person away hands their part to the backup
of their period (role COVER, naming whom they cover for), while that backup may open the issue and is not
away too; without a usable backup the chain above goes on past them (the lead covers for an owner; for an
away lead, the account manager; else the team).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.utils import timezone

from issues import away
from issues.models import Customer, Issue, Team


class Role(enum.StrEnum):
    """Why a person is told: the part they play for this issue."""

    OWNER = "owner"
    ACCOUNT_MANAGER = "account_manager"
    LEAD = "lead"
    TEAM = "team"
    COVER = "cover"  # stands in for someone away (``Told.covering``)


def may_open(user: str, team: str) -> Q:
    """The rule, as a condition on a query: the user in column `user` may open the issues of the team in
    column `team` (for an Issue: ``may_open("owner", "customer__team")``)."""
    member = Team.members.through.objects.filter(team=OuterRef(team), user=OuterRef(user))
    return Q(**{f"{user}__is_active": True}) & (Q(**{f"{team}__lead": F(user)}) | Exists(member))


def default_owner(customer: Customer):
    """The customer's account manager, while they may still open its issues; None otherwise."""
    if customer.account_manager_id is None:
        return None
    allowed = Customer.objects.filter(pk=customer.pk).filter(may_open("account_manager", "team")).exists()
    return customer.account_manager if allowed else None


@dataclass(frozen=True)
class Told:
    """One person to tell, and why: `responsible` is the one who must act (write to the customer)."""

    user: object
    role: Role
    responsible: bool
    covering: away.Cover | None = None  # the period of the person away whose part this is

    def context(self, found: Reach) -> dict:
        """What the email says about why this person is told (stored with the outbox row)."""
        told = {"role": str(self.role), "is_owner": self.responsible, "owner_gone": found.owner_gone,
                "unowned": found.owner_id is None}
        if self.covering is not None:
            told.update(covering=away.name(self.covering.person), covering_until=self.covering.until.isoformat())
        return told


@dataclass
class Reach:
    """The people one issue's news may reach, as they stand now (None: may not be told)."""

    owner_id: int | None = None
    owner: object = None
    manager: object = None
    lead: object = None
    team: list = field(default_factory=list)  # every active member; loaded only for a team without a lead
    team_id: int | None = None
    away: dict = field(default_factory=dict)  # person pk -> away.Cover, for the people above away now

    @property
    def owner_gone(self) -> bool:
        return self.owner_id is not None and self.owner is None

    def responsible(self, *, besides: int | None = None) -> list[Told]:
        """Who must act on the issue now."""
        if self.owner_id is None:
            chain = [(self.manager, Role.ACCOUNT_MANAGER), (self.lead, Role.LEAD)]
        else:
            chain = [(self.owner, Role.OWNER), (self.lead, Role.LEAD), (self.manager, Role.ACCOUNT_MANAGER)]
        return self._first(chain, responsible=True, besides=besides)

    def lead_part(self, *, besides: int | None = None) -> list[Told]:
        """Who hears as the team lead would."""
        return self._first([(self.lead, Role.LEAD), (self.manager, Role.ACCOUNT_MANAGER)], responsible=False,
                           besides=besides)

    def _first(self, chain: list, *, responsible: bool, besides: int | None) -> list[Told]:
        covering = None  # the first one away on the way down: whoever is told stands in for them
        for user, role in chain:
            if user is None:
                continue
            if (cover := self.away.get(user.pk)) is not None:
                covering = covering or cover
                backup = cover.backup_for(self.team_id)
                if backup is not None and backup.pk != besides:
                    return [Told(backup, Role.COVER, responsible, cover)]
                continue
            if user.pk != besides:
                return [Told(user, Role.COVER if covering else role, responsible, covering)]
        return [Told(user, Role.TEAM, responsible, covering) for user in self.team if user.pk != besides]


# The people an issue names, by the column that names them.
PARTS = {"owner": "owner", "manager": "customer__account_manager", "lead": "customer__team__lead"}


def reach(issues: list[Issue], *, at: datetime | None = None) -> dict[int, Reach]:
    """Whom each issue's news may reach at `at` (now by default), for a whole batch in at most five queries:
    the rule for the owner, account manager and lead of every issue; those people; who of them is away
    and their backups' teams (``issues.away.covers``); and, for teams without a lead who may be told (or
    whose lead is away), their active members."""
    rows = list(Issue.objects.filter(pk__in=[issue.pk for issue in issues]).values(
        "pk", "customer__team",
        **{f"{part}_pk": F(column) for part, column in PARTS.items()},
        **{f"{part}_may": ExpressionWrapper(may_open(column, "customer__team"), output_field=BooleanField())
           for part, column in PARTS.items()},
    ))
    allowed = {row[f"{part}_pk"] for row in rows for part in PARTS if row[f"{part}_may"]}
    users = get_user_model().objects.select_related("profile").in_bulk(allowed) if allowed else {}
    gone = away.covers(allowed, at or timezone.now(), teams=True)
    team = _active_members({row["customer__team"] for row in rows if not row["lead_may"] or row["lead_pk"] in gone})

    def person(row: dict, part: str):
        return users.get(row[f"{part}_pk"]) if row[f"{part}_may"] else None

    return {row["pk"]: Reach(owner_id=row["owner_pk"], owner=person(row, "owner"), manager=person(row, "manager"),
                             lead=person(row, "lead"), team=team[row["customer__team"]],
                             team_id=row["customer__team"], away={pk: gone[pk] for pk in gone if pk in {
                                 row["owner_pk"], row["manager_pk"], row["lead_pk"]}})
            for row in rows}


def _active_members(team_ids: set[int]) -> dict[int, list]:
    """Every active member of teams without a lead who may be told: the last ones left to tell."""
    members = defaultdict(list)
    if team_ids:
        for membership in (Team.members.through.objects.filter(team__in=team_ids, user__is_active=True)
                           .select_related("user__profile").order_by("user__pk")):
            members[membership.team_id].append(membership.user)
    return members
