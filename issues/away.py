"""Away and cover: a person away (from–until) names a backup from one of their teams; while away, what was
meant for them goes to the backup, and without a usable backup the lead's rule applies
(``notifications.recipients``). Coming back needs no action: the period ends. Past periods stay as history.

**Who covers at a moment** (``covers``): the backup named for the period running then, while that backup is
active and not away themselves. A backup who is away too hands on to nobody else (no chain): the lead's rule
applies instead, as for a period without a backup.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from issues.models import Away, Team
from issues.text import person_name


@dataclass(frozen=True)
class Cover:
    """One person away at a moment: until when, and who covers (None: the lead's rule applies)."""

    person: object
    until: datetime
    backup: object = None
    # The teams the backup belongs to or leads (loaded on request): they cover only those teams' issues.
    backup_teams: frozenset = field(default_factory=frozenset)

    def backup_for(self, team_id: int):
        """The backup, if they may cover an issue of this team."""
        return self.backup if self.backup is not None and team_id in self.backup_teams else None


def name(user) -> str:
    return person_name(user)


def away_at(at: datetime) -> Q:
    """The periods running at `at` (a period ends at its ``ends_at``: back from then)."""
    return Q(starts_at__lte=at, ends_at__gt=at)


def periods_at(at: datetime) -> QuerySet:
    return Away.objects.filter(away_at(at))


def covers(users: Iterable, at: datetime, *, teams: bool = False) -> dict[int, Cover]:
    """Who is away at `at` among `users` (objects or ids), and who covers each: one query, and one more for
    the backups' teams when `teams` is asked for and anyone has a backup."""
    ids = {getattr(user, "pk", user) for user in users} - {None}
    if not ids:
        return {}
    backup_away = Exists(periods_at(at).filter(person=OuterRef("backup")))
    rows = (periods_at(at).filter(person__in=ids).select_related("person__profile", "backup__profile")
            .annotate(backup_away=backup_away).order_by("person", "-starts_at"))
    found: dict[int, Away] = {}
    for row in rows:
        found.setdefault(row.person_id, row)  # overlaps are refused; the latest start wins if one slipped in
    usable = {pk: row.backup for pk, row in found.items()
              if row.backup is not None and row.backup.is_active and not row.backup_away}
    of_backup = teams_of({backup.pk for backup in usable.values()}) if teams and usable else {}
    return {pk: Cover(row.person, row.ends_at, usable.get(pk),
                      frozenset(of_backup.get(getattr(usable.get(pk), "pk", None), ())))
            for pk, row in found.items()}


def who_covers(user, at: datetime, *, teams: bool = False) -> Cover | None:
    """The cover of one person at `at`, or None when they are not away then."""
    return covers([user], at, teams=teams).get(getattr(user, "pk", user))


def teams_of(user_ids: set[int]) -> dict[int, set[int]]:
    """The teams each person belongs to or leads, in one query."""
    found = defaultdict(set)
    for team_id, lead_id, member_id in (Team.objects.filter(Q(lead__in=user_ids) | Q(members__in=user_ids))
                                        .values_list("pk", "lead", "members")):
        found[lead_id].add(team_id)
        found[member_id].add(team_id)
    return {pk: found[pk] for pk in user_ids}


def owner_away_until(at: datetime) -> Subquery:
    """For an Issue query: when the owner's period running at `at` ends (NULL: not away), so a page learns
    without a query of its own that nobody is away."""
    return Subquery(periods_at(at).filter(person=OuterRef("owner")).order_by("-starts_at").values("ends_at")[:1])


def covered_by(user, at: datetime) -> Q:
    """Issues whose owner is away at `at` and whom `user` covers: as the named backup (active, not away), or
    as the lead of the issue's team when the period has no usable backup."""
    period = periods_at(at).filter(person=OuterRef("owner"))
    no_backup = Q(backup=None) | Q(backup__is_active=False) | Exists(periods_at(at).filter(person=OuterRef("backup")))
    as_backup = Exists(period.filter(backup=user).exclude(no_backup))
    as_lead = Exists(period.filter(no_backup)) & Q(customer__team__lead=user)
    return as_backup | as_lead


def contact_while_away(issue, at: datetime) -> tuple[datetime, object] | None:
    """While the issue's owner is away at `at`: until when, and whom the customer reaches meanwhile (the
    backup; without a usable one the team lead, or the account manager when the lead is the one away). The
    owner stays the owner. Looked up once per issue object (a batch of emails about one issue asks once)."""
    if issue.owner_id is None:
        return None
    if "_contact_while_away" not in issue.__dict__:
        cover = who_covers(issue.owner_id, at, teams=True)
        stand_in = None
        if cover is not None:
            team = issue.customer.team
            stand_in = cover.backup_for(team.pk) or next(
                (user for user in (team.lead, issue.customer.account_manager)
                 if user is not None and user.pk != issue.owner_id and user.is_active), None)
        issue.__dict__["_contact_while_away"] = (cover.until, stand_in) if stand_in is not None else None
    return issue.__dict__["_contact_while_away"]


def people_for(by) -> QuerySet:
    """Whose periods `by` may set: themselves, and the active members of the teams they lead."""
    return (get_user_model().objects.filter(Q(pk=by.pk) | Q(is_active=True, teams__lead=by)).distinct()
            .order_by("first_name", "last_name", "username"))


def backups_for(by) -> QuerySet:
    """Who may be named a backup on `by`'s page: the active people of the teams of everyone in
    ``people_for`` (the service checks that the backup shares a team with the person chosen)."""
    teams = Team.objects.filter(Q(lead=by) | Q(members=by) | Q(members__in=people_for(by))).values("pk")
    return (get_user_model().objects.filter(is_active=True).filter(Q(teams__in=teams) | Q(led_teams__in=teams))
            .distinct().order_by("first_name", "last_name", "username"))


def periods_for(by, now: datetime, *, past: int = 5) -> tuple[list[Away], list[Away]]:
    """The periods `by` may change that run now or lie ahead (soonest first), and the latest past ones."""
    periods = Away.objects.filter(person__in=people_for(by).values("pk")).select_related("person", "backup")
    ahead = list(periods.filter(ends_at__gt=now).order_by("starts_at", "pk"))
    return ahead, list(periods.filter(ends_at__lte=now).order_by("-ends_at", "-pk")[:past])


# --- setting and ending a period --------------------------------------------------------------------


def may_set_for(by, person) -> bool:
    """A person sets their own periods; a lead those of the members of the teams they lead."""
    return by.pk == person.pk or Team.objects.filter(lead=by, members=person).exists()


def set_away(*, person, starts_at: datetime, ends_at: datetime, backup=None, by, now: datetime | None = None) -> Away:
    """Record that `person` is away from `starts_at` until `ends_at`, covered by `backup` (None: the lead)."""
    now = now or timezone.now()
    with transaction.atomic():
        check_period(person=person, starts_at=starts_at, ends_at=ends_at, backup=backup, by=by, now=now)
        return Away.objects.create(person=person, starts_at=starts_at, ends_at=ends_at, backup=backup, set_by=by,
                                   created_at=now)


def check_period(*, person, starts_at: datetime, ends_at: datetime, backup, by, now: datetime) -> None:
    if not may_set_for(by, person):
        raise ValidationError(_("You may set away periods only for yourself and the members of teams you lead."))
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end of the period must come after its start.")})
    if ends_at <= now:
        raise ValidationError({"ends_at": _("This period is already over.")})
    overlap = Away.objects.filter(person=person, starts_at__lt=ends_at, ends_at__gt=starts_at).first()
    if overlap is not None:
        raise ValidationError({"starts_at": _("%(name)s is already away from %(start)s to %(end)s: end that period "
                                              "first or choose other dates.") % {
            "name": name(person), "start": shown_from(overlap.starts_at), "end": shown_until(overlap.ends_at)}})
    if backup is not None:
        check_backup(person=person, starts_at=starts_at, ends_at=ends_at, backup=backup)


def check_backup(*, person, starts_at: datetime, ends_at: datetime, backup) -> None:
    if backup.pk == person.pk:
        raise ValidationError({"backup": _("Choose someone else as the backup.")})
    if not backup.is_active:
        raise ValidationError({"backup": _("%(name)s can no longer sign in.") % {"name": name(backup)}})
    shared = teams_of({person.pk, backup.pk})
    if not shared[person.pk] & shared[backup.pk]:
        raise ValidationError({"backup": _("%(name)s is in none of %(person)s's teams.") % {
            "name": name(backup), "person": name(person)}})
    # Cover does not chain: a backup away for the whole period could never cover.
    away = Away.objects.filter(person=backup, starts_at__lte=starts_at, ends_at__gte=ends_at).first()
    if away is not None:
        raise ValidationError({"backup": _("%(name)s is away themselves until %(end)s: choose another backup.") % {
            "name": name(backup), "end": shown_until(away.ends_at)}})


def end_away(*, away: Away, by, now: datetime | None = None) -> Away | None:
    """Back early: a running period ends now (it stays as history); one not begun yet is withdrawn.
    Returns the period as it stays, or None when withdrawn."""
    now = now or timezone.now()
    if not may_set_for(by, away.person):
        raise ValidationError(_("You may set away periods only for yourself and the members of teams you lead."))
    with transaction.atomic():
        if away.starts_at > now:
            away.delete()
            return None
        if away.ends_at > now:
            Away.objects.filter(pk=away.pk, ends_at__gt=now).update(ends_at=now)
            away.ends_at = now
    return away


def whole_day(at: datetime) -> bool:
    local = timezone.localtime(at)
    return local.hour == local.minute == local.second == 0


def shown_from(at: datetime) -> str:
    """A period's start as pages show it: a day when it starts at local midnight."""
    return formats.date_format(timezone.localtime(at), "Y-m-d" if whole_day(at) else "Y-m-d H:i")


def shown_until(at: datetime) -> str:
    """A period's end as pages show it: the last day away when it ends at local midnight (back the next
    morning), else the moment."""
    if whole_day(at):
        return formats.date_format(timezone.localtime(at) - timedelta(days=1), "Y-m-d")
    return formats.date_format(timezone.localtime(at), "Y-m-d H:i")
