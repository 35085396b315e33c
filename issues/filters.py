"""The inbox's filters: a GET form whose values live in the URL, so a view can be bookmarked and shared."""

from __future__ import annotations

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from issues import text
from issues.models import OPEN_STATUSES, Severity
from issues.reporting.counts import display_name
from issues.selectors import BASE_TIER, InboxQuery

ANY = [("", _("Any"))]
OWNER_CHOICES = [("", _("Anyone")), ("me", _("Me")), ("covering", _("Issues I cover")), ("unassigned", _("Unassigned"))]
CLOCK_CHOICES = [("", _("Any")), ("at_risk", _("At risk")), ("breached", _("Overdue")),
                 ("due_24h", _("Due within 24 h")), ("due_today", _("Update due today"))]
SCOPE_CHOICES = [("", _("Open")), ("waiting", _("Waiting on customer")), ("resolved", _("Resolved")),
                 ("closed", _("Closed")), ("all", _("All"))]
FILTER_FIELDS = ("scope", "severity", "status", "owner", "customer", "team", "tier", "clock", "q")


SEARCH_HINT = _("Reference, words, contact…")


class InboxFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": SEARCH_HINT}))
    scope = forms.ChoiceField(label=_("Scope"), required=False, choices=SCOPE_CHOICES)
    severity = forms.ChoiceField(label=_("Severity"), required=False, choices=ANY + list(Severity.choices))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=ANY + [(s.value, s.label) for s in OPEN_STATUSES])
    owner = forms.ChoiceField(label=_("Owner"), required=False, choices=OWNER_CHOICES)
    customer = forms.ChoiceField(label=_("Customer"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    tier = forms.ChoiceField(label=_("SLA tier"), required=False)
    clock = forms.ChoiceField(label=_("Clock"), required=False, choices=CLOCK_CHOICES)

    def __init__(self, data: QueryDict, *, customers, people=None, user=None) -> None:
        super().__init__(data)
        # Any person of my teams, by id, after "me" and the other named choices.
        if people is not None:
            self.fields["owner"].choices = OWNER_CHOICES + [
                (str(p.pk), display_name(p)) for p in people if user is None or p.pk != user.pk]
        # The teams come with the customers (one query): a team filter only for people of several teams.
        customers = list(customers.select_related("team", "tier").only(
            "name", "slug", "team__name", "tier__name", "tier__position"))
        self.fields["customer"].choices = ANY + [(c.slug, c.name) for c in customers]
        self.customer_ids = [c.pk for c in customers]  # the customers the user may see (``selectors.inbox``)
        teams = sorted({(str(c.team_id), c.team.name) for c in customers}, key=lambda team: team[1])
        if len(teams) > 1:
            self.fields["team"].choices = ANY + teams
        else:
            del self.fields["team"]
        # The tiers come with the customers too: a tier filter only once some customer has a tier.
        tiers = sorted({c.tier for c in customers if c.tier_id}, key=lambda tier: (tier.position, tier.name))
        if tiers:
            self.fields["tier"].choices = ANY + [(str(t.pk), t.name) for t in tiers] + [(BASE_TIER, _("No tier"))]
        else:
            del self.fields["tier"]

    def query(self) -> InboxQuery:
        """The filters to apply; a value the form rejects (an old bookmark, a hand-edited URL) is dropped."""
        self.is_valid()
        values = {name: self.cleaned_data.get(name, "") for name in FILTER_FIELDS if name not in self.errors}
        values["q"] = text.one_line(values.get("q", ""))
        return InboxQuery(**values)

    @property
    def active(self) -> bool:
        return any(self.data.get(name) for name in FILTER_FIELDS)

    @property
    def active_count(self) -> int:
        """How many filters behind the phone's "Filters" toggle narrow the list. The search box stays in
        sight, so it is not counted; a value the form rejects is dropped (see `query`), so neither is that."""
        self.is_valid()
        return sum(1 for name in FILTER_FIELDS
                   if name != "q" and name in self.fields and name not in self.errors and self.cleaned_data.get(name))


def filter_querystring(data: QueryDict, *, page: bool = True) -> str:
    """The filters (and page) of a request as a query string: for page links, and to come back to
    after a bulk action. Empty values are left out so the URL stays short enough to share."""
    kept = QueryDict(mutable=True)
    for name in (*FILTER_FIELDS, "page") if page else FILTER_FIELDS:
        if data.get(name):
            kept[name] = data[name]
    return kept.urlencode()

