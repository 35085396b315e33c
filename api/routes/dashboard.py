"""The overdue dashboard's counts, for team leads only (as the page: anyone else gets a 404)."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from api import present
from api.schemas import Dashboard, Problem
from issues.errors import Reason
from issues.ids import parse_id
from issues.models import Team
from issues.reporting import counts

router = Router(tags=["dashboard"])
READ_ERRORS = {401: Problem, 404: Problem, 422: Problem, 429: Problem}


class TeamChoice(Schema):
    team: str = Field("", description="A team's id; empty: the first team the person leads.")


def chosen_team(user, wanted: str) -> tuple[Team, list[Team]]:
    """As the page chooses (``issues.views.dashboard.chosen_team``): the team asked for, or the first the person
    leads; a 404 with the same reason for every team, so it confirms none exists."""
    teams = list(counts.teams_led_by(user))
    pk = parse_id(wanted) if wanted else None
    team = next((team for team in teams if team.pk == pk), None) if wanted else next(iter(teams), None)
    if team is None:
        raise Http404(Reason(_("Only team leads see the dashboard, and only for the teams they lead.")))
    return team, teams


@router.get("/dashboard", response={200: Dashboard, **READ_ERRORS}, operation_id="getDashboard",
            summary="A team lead's overdue dashboard: the counts", url_name="get_dashboard")
def get_dashboard(request: HttpRequest, choice: Query[TeamChoice]) -> dict:
    """What is breached, due within 24 h, due today and waiting, by severity; by owner; by customer (the
    longest silence first); and the issues at risk of missing the customer's deadline."""
    team, teams = chosen_team(request.auth.user, choice.team)
    moment = counts.Moment.of(team, timezone.now())
    return {
        "team": {"id": team.pk, "name": team.name},
        "teams": [{"id": each.pk, "name": each.name} for each in teams],
        "now": moment.now,
        "tiles": [{"measure": tile.measure, "total": tile.total, "by_severity": dict(tile.by_severity),
                   "since": tile.since} for tile in counts.now_tiles(team, moment)],
        "owners": [{"owner": present.person(row.owner), "open": row.open, "breached": row.breached,
                    "due_24h": row.due_24h, "oldest_unacknowledged": row.oldest_unacknowledged,
                    "quiet_since": row.quiet_since} for row in counts.by_owner(team, moment, promises=False)],
        "customers": [{"slug": row.slug, "name": row.name, "code": row.code, "open": row.open,
                       "breached": row.breached, "quiet_since": row.quiet_since, "next_promise": row.next_promise,
                       "reachable": row.reachable, "tier": row.tier} for row in counts.by_customer(team, moment)],
        "deadline_risks": [{"id": issue.pk, "reference": issue.reference, "title": issue.title,
                            "customer_deadline": issue.customer_deadline, "owner": present.person(issue.owner)}
                           for issue in counts.deadline_risks(team, moment)],
    }
