"""The overdue dashboard of a team lead, and its CSV exports.

Only the chosen team's lead (and superusers, for any team) may open them; anyone else gets a 404, so the
page never confirms that a team exists. Anonymous visitors are sent to log in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issues.errors import Reason
from issues.ids import query_id
from issues.models import Team
from issues.reporting import compliance, counts, exports, ratings
from issues.reporting.chart import trend_chart
from issues.views.common import only_get

# The customer table shows the quietest customers; ?customers=all shows every one.
CUSTOMERS_SHOWN = 15
LONGEST_EXPORT = timedelta(days=366)


class PeriodForm(forms.Form):
    """Which breaches to export: local dates of the team, both included."""

    first = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last and first > last:
            raise forms.ValidationError(_("The period must end on or after its first day."))
        if first and last and last - first >= LONGEST_EXPORT:
            raise forms.ValidationError(_("Export at most a year at a time."))
        return data


def chosen_team(request: HttpRequest) -> tuple[Team, list[Team]]:
    """The team asked for (?team=<id>), or the first the user leads; a 404 for a team they do not lead."""
    teams = list(counts.teams_led_by(request.user))
    if request.GET.get("team"):
        wanted = query_id(request.GET, "team")
        team = next((team for team in teams if team.pk == wanted), None)
    else:
        team = next(iter(teams), None)
    if team is None:
        # The reason is the same for every team, so it confirms none exists.
        raise Http404(Reason(_("Only team leads see the dashboard, and only for the teams they lead.")))
    return team, teams


def lead_page(view: Callable[..., HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Log in, find the chosen team among those the user leads (404 otherwise, before anything else is
    said), accept only GET, and hand the view the team, the user's teams and the present moment."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        team, teams = chosen_team(request)
        if refused := only_get(request):
            return refused
        return view(request, team, teams, counts.Moment.of(team, timezone.now()))

    return wrapper


def render_dashboard(request: HttpRequest, team: Team, teams: list[Team], moment: counts.Moment,
                     period_form: PeriodForm, *, status: int = 200) -> HttpResponse:
    customers = counts.by_customer(team, moment)
    show_all = request.GET.get("customers") == "all"
    report = compliance.compliance(team, moment)
    return render(request, "issues/dashboard.html", {
        "team": team,
        "teams": teams,
        "moment": moment,
        "now": moment.now,
        "tiles": counts.now_tiles(team, moment),
        "owners": counts.by_owner(team, moment),
        "deadline_risks": counts.deadline_risks(team, moment),
        "customers": customers if show_all else customers[:CUSTOMERS_SHOWN],
        "customers_hidden": 0 if show_all else max(len(customers) - CUSTOMERS_SHOWN, 0),
        "compliance": report,
        "windows": compliance.WINDOWS,
        "chart": trend_chart(report.trend),
        "period_form": period_form,
        "ratings": ratings.ratings(team, moment),
    }, status=status)


@lead_page
def dashboard_page(request: HttpRequest, team: Team, teams: list[Team], moment: counts.Moment) -> HttpResponse:
    last = moment.now.astimezone(moment.zone).date()
    period = PeriodForm(initial={"first": last - timedelta(days=29), "last": last})
    return render_dashboard(request, team, teams, moment, period)


def csv_response(name: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(exports.csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@lead_page
def breaches_csv(request: HttpRequest, team: Team, teams: list[Team], moment: counts.Moment) -> HttpResponse:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return render_dashboard(request, team, teams, moment, form, status=400)
    first, last = form.cleaned_data["first"], form.cleaned_data["last"]
    return csv_response(f"breaches-team-{team.pk}-{first}-{last}.csv", exports.breach_header(),
                        exports.breach_rows(team, first, last, moment))


@lead_page
def owners_csv(request: HttpRequest, team: Team, _teams: list[Team], moment: counts.Moment) -> HttpResponse:
    day = moment.now.astimezone(moment.zone).date()
    return csv_response(f"owners-team-{team.pk}-{day}.csv", exports.owner_header(),
                        exports.owner_rows(counts.by_owner(team, moment, promises=False), moment))


@lead_page
def ratings_csv(request: HttpRequest, team: Team, teams: list[Team], moment: counts.Moment) -> HttpResponse:
    """The customers' ratings of the last 90 days (the dashboard's card), or of the local dates asked for."""
    if "first" in request.GET or "last" in request.GET:
        form = PeriodForm(request.GET)
        if not form.is_valid():
            return render_dashboard(request, team, teams, moment, form, status=400)
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
    else:
        first, last = ratings.window(moment)
    return csv_response(f"ratings-team-{team.pk}-{first}-{last}.csv", exports.rating_header(),
                        exports.rating_rows(ratings.given(team, first, last, moment), moment))
