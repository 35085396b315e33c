"""A person's own preferences: whether they receive the daily digest, and when they are away and who covers
(a lead sets that for the members of the teams they lead too). One page, one form per job: a hidden `form`
field says which one was sent."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from api.forms import ApiTokenForm
from api.tokens import create_token, revoke_token, tokens_of
from issues import away
from issues.forms import add_service_error
from issues.ids import parse_id
from issues.models import Away, Profile

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
REACH_DAYS = 3653  # away periods are planned (and looked back on) within ten years


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["receives_digest"]
        labels = {"receives_digest": gettext_lazy("Send me the daily digest")}


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return away.name(user)


class AwayForm(forms.Form):
    """Whole local days: away from the start of the first day until the end of the last."""

    person = PersonChoice(label=gettext_lazy("Who is away"), queryset=None, empty_label=None)
    starts_on = forms.DateField(label=gettext_lazy("First day away"), widget=DATE)
    ends_on = forms.DateField(label=gettext_lazy("Last day away"), widget=DATE)
    backup = PersonChoice(label=gettext_lazy("Backup"), queryset=None, required=False,
                          empty_label=gettext_lazy("Nobody: the team lead covers"),
                          help_text=gettext_lazy("Someone of the same team who gets the reminders, breach notices, "
                                                 "new assignments and digests meanwhile. Customers are told to "
                                                 "reach them until you are back."))

    def __init__(self, *args, by, **kwargs) -> None:
        super().__init__(*args, prefix="away", **kwargs)
        self.fields["person"].queryset = away.people_for(by)
        self.fields["backup"].queryset = away.backups_for(by)
        if not self.is_bound:
            self.fields["person"].initial = by.pk

    def clean(self) -> dict:
        data = super().clean()
        today = timezone.localdate()
        for field in ("starts_on", "ends_on"):
            if data.get(field) and abs((data[field] - today).days) > REACH_DAYS:
                self.add_error(field, _("Choose a day within ten years of today."))
        return data

    def period(self) -> dict:
        """The service's arguments: the days as moments in the site's time zone."""
        zone = timezone.get_current_timezone()
        data = self.cleaned_data
        return {"person": data["person"], "backup": data["backup"],
                "starts_at": datetime.combine(data["starts_on"], time(0), zone),
                "ends_at": datetime.combine(data["ends_on"] + timedelta(days=1), time(0), zone)}


FIELD_OF = {"starts_at": "starts_on", "ends_at": "ends_on"}


def page(request: HttpRequest, *, status: int = 200, **bound: forms.Form) -> HttpResponse:
    profile = bound.pop("profile")
    ahead, past = away.periods_for(request.user, timezone.now())
    leads = away.people_for(request.user).exclude(pk=request.user.pk).exists()
    context = {"form": PreferencesForm(instance=profile), "away_form": AwayForm(by=request.user), "ahead": ahead,
               "past": past, "leads": leads, "now": timezone.now(), "api_tokens": tokens_of(request.user),
               "api_token_form": ApiTokenForm(), **bound}
    response = render(request, "issues/preferences.html", context, status=status)
    if "new_api_token" in bound:
        response["Cache-Control"] = "no-store"  # the secret is in this page, once: no cache keeps it
    return response


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    # The profile is created on the first save; until then the defaults apply (digests on).
    profile = (Profile.objects.filter(user=request.user).first()
               or Profile(user=request.user, language=translation.get_language() or "en"))
    if request.method == "GET":
        return page(request, profile=profile)
    if request.POST.get("form") == "away":
        return set_away(request, profile)
    if request.POST.get("form") == "end_away":
        return end_away(request)
    if request.POST.get("form") == "api_token":
        return make_api_token(request, profile)
    if request.POST.get("form") == "revoke_api_token":
        return revoke_api_token(request)
    form = PreferencesForm(request.POST, instance=profile)
    if not form.is_valid():
        return page(request, status=400, profile=profile, form=form)
    form.save()
    messages.success(request, _("Daily digest turned on.") if profile.receives_digest else _("Daily digest turned off."))
    return redirect("preferences")


def set_away(request: HttpRequest, profile: Profile) -> HttpResponse:
    form = AwayForm(request.POST, by=request.user)
    if form.is_valid():
        try:
            period = away.set_away(by=request.user, **form.period())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                error = ValidationError({FIELD_OF.get(field, field): errors for field, errors in error.error_dict.items()})
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s is away from %(start)s until %(end)s.") % {
                "name": away.name(period.person), "start": away.shown_from(period.starts_at),
                "end": away.shown_until(period.ends_at)})
            return redirect("preferences")
    return page(request, status=400, profile=profile, away_form=form)


def end_away(request: HttpRequest) -> HttpResponse:
    pk = parse_id(request.POST.get("away", ""))
    period = Away.objects.select_related("person").filter(
        pk=pk, person__in=away.people_for(request.user).values("pk")).first() if pk else None
    if period is None:
        raise Http404
    kept = away.end_away(away=period, by=request.user)
    messages.success(request, (_("%(name)s is back.") if kept else _("The away period of %(name)s was withdrawn.")) % {
        "name": away.name(period.person)})
    return redirect("preferences")


def make_api_token(request: HttpRequest, profile: Profile) -> HttpResponse:
    """The new token's secret is on the answer to this POST and nowhere else (only its hash is kept); the same
    form sent twice makes one token and says so."""
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            made = create_token(user=request.user, name=form.cleaned_data["name"],
                                read_only=form.cleaned_data["read_only"], token=form.cleaned_data["token"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return page(request, profile=profile, new_api_token=made)
    return page(request, status=400, profile=profile, api_token_form=form)


def revoke_api_token(request: HttpRequest) -> HttpResponse:
    token = revoke_token(user=request.user, token_id=parse_id(request.POST.get("api_token", "")) or 0)
    if token is None:
        raise Http404
    messages.success(request, _("The token “%(name)s” is revoked: requests with it are refused from now on.")
                     % {"name": token.name})
    return redirect(f"{reverse('preferences')}#api-tokens")
