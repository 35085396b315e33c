"""A person's own preferences: for now, whether they receive the daily digest."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from issues.models import Profile


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["receives_digest"]
        labels = {"receives_digest": gettext_lazy("Send me the daily digest")}


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    # The profile is created on the first save; until then the defaults apply (digests on).
    profile = (Profile.objects.filter(user=request.user).first()
               or Profile(user=request.user, language=translation.get_language() or "en"))
    if request.method == "GET":
        return render(request, "issues/preferences.html", {"form": PreferencesForm(instance=profile)})
    form = PreferencesForm(request.POST, instance=profile)
    if not form.is_valid():
        return render(request, "issues/preferences.html", {"form": form}, status=400)
    form.save()
    messages.success(request, _("Daily digest turned on.") if profile.receives_digest else _("Daily digest turned off."))
    return redirect("preferences")
