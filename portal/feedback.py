"""After a resolution, on the customer's page: "solved", "not solved" (with what is still wrong), and a rating.

Three small forms, each POST only (CSRF-checked, with a one-time token so a double click records once), each one
service in ``issues.feedback``, confirmed on the page they return to; the service copies every word to the
contact's own address. ``box`` is what the page's "after resolution" part shows (``portal/_after_resolution.html``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from issues import feedback
from issues.forms import SentOnce, add_service_error
from issues.models import Feedback, Status
from issues.models.feedback import HIGHEST_SCORE, LOWEST_SCORE
from notifications.kinds import person
from portal import services, views
from portal.access import Visit, visit

SCORES = [(str(score), str(score)) for score in range(HIGHEST_SCORE, LOWEST_SCORE - 1, -1)]  # 5 first: see the CSS


class SolvedForm(SentOnce):
    prefix = "solved"


class NotSolvedForm(SentOnce):
    prefix = "not_solved"
    # Required by the service (its message names the field): the page says why next to it.
    words = forms.CharField(label=gettext_lazy("What is still wrong?"), required=False,
                            widget=forms.Textarea(attrs={"rows": 4}))


class RatingForm(SentOnce):
    prefix = "rating"
    score = forms.ChoiceField(label=gettext_lazy("Your rating"), choices=SCORES, required=False,
                              widget=forms.RadioSelect)
    comment = forms.CharField(label=gettext_lazy("Anything you would like to tell us? (optional)"), required=False,
                              max_length=feedback.COMMENT_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3}))


@dataclass(frozen=True)
class Box:
    """The "after resolution" part of the page: shown only while the issue is resolved or closed."""

    given: Feedback | None
    solved_form: SolvedForm
    not_solved_form: NotSolvedForm
    rating_form: RatingForm
    solved_url: str
    not_solved_url: str
    rate_url: str
    closed: bool


def box(found: Visit, bound: dict) -> Box | None:
    """What the part shows: what the contact said of this resolution so far (one query) and the forms, bound
    ones (refused, with their errors) taking the place of fresh ones."""
    issue = found.issue
    if issue.status not in {Status.RESOLVED, Status.CLOSED}:
        return None
    given = feedback.current(issue, found.contact)
    rating = RatingForm(initial={"score": str(given.score) if given and given.score else None,
                                 "comment": given.comment if given else ""})
    urls = {name: reverse(f"portal:{name}", kwargs={"token": found.token}) for name in ("solved", "not_solved", "rate")}
    return Box(given=given, solved_form=bound.get("solved_form") or SolvedForm(),
               not_solved_form=bound.get("not_solved_form") or NotSolvedForm(),
               rating_form=bound.get("rating_form") or rating, solved_url=urls["solved"],
               not_solved_url=urls["not_solved"], rate_url=urls["rate"], closed=issue.status == Status.CLOSED)


@require_POST
def solved(request: HttpRequest, token: str) -> HttpResponse:
    found = visit(request, token)
    form = SolvedForm(request.POST)
    form.is_valid()  # only the one-time token: a mangled one counts as none
    try:
        feedback.solved(issue=found.issue, contact=found.contact, token=form.cleaned_data.get("token"))
    except ValidationError as error:
        return _refused(request, found, "solved_form", form, error)
    messages.success(request, _("Thank you: we noted that it is solved. A copy went to %(address)s.")
                     % {"address": found.address})
    return redirect(services.page_link(found.issue.pk, found.contact))


@require_POST
def not_solved(request: HttpRequest, token: str) -> HttpResponse:
    found = visit(request, token)
    form = NotSolvedForm(request.POST)
    if not form.is_valid():
        return _page(request, found, not_solved_form=form)
    try:
        landed = feedback.not_solved(issue=found.issue, contact=found.contact, words=form.cleaned_data["words"],
                                     token=form.cleaned_data["token"])
    except ValidationError as error:
        return _refused(request, found, "not_solved_form", form, error)
    if landed.pk == found.issue.pk:
        message = _("Thank you: the issue is open again and %(owner)s has your words. A copy went to %(address)s.") % {
            "owner": person(landed.owner, get_language()), "address": found.address}
    else:
        message = _("The issue was closed, so your words opened a new one, %(reference)s. A copy went to "
                    "%(address)s.") % {"reference": landed.reference, "address": found.address}
    messages.success(request, message)
    return redirect(services.page_link(landed.pk, found.contact))


@require_POST
def rate(request: HttpRequest, token: str) -> HttpResponse:
    found = visit(request, token)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _page(request, found, rating_form=form)
    try:
        given = feedback.rate(issue=found.issue, contact=found.contact, score=form.cleaned_data["score"],
                              comment=form.cleaned_data["comment"], token=form.cleaned_data["token"])
    except ValidationError as error:
        return _refused(request, found, "rating_form", form, error)
    messages.success(request, _("Thank you for your rating: %(score)s of 5. A copy went to %(address)s.")
                     % {"score": given.score, "address": found.address})
    return redirect(services.page_link(found.issue.pk, found.contact))


def _refused(request: HttpRequest, found: Visit, name: str, form: forms.Form, error: ValidationError) -> HttpResponse:
    """The reason next to the form; above the page when the form is gone (the issue is open again)."""
    if found.issue.status in {Status.RESOLVED, Status.CLOSED}:
        add_service_error(form, error)
    else:
        for message in error.messages:
            messages.error(request, message)
    return _page(request, found, **{name: form})


def _page(request: HttpRequest, found: Visit, **bound: forms.Form) -> HttpResponse:
    """The issue page again, with the refused form and its errors (nothing was recorded)."""
    return views._page(request, found, status=400, **bound)
