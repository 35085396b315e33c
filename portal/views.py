"""The customer's pages: who is visiting (``portal.access``), a form, one service, and back to the page.

GET only reads. Every POST is confirmed on the page it returns to and copied to the contact's address.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from issues import services as issue_services
from issues.forms import add_service_error
from notifications.kinds import when
from portal import page, selectors, services, throttle
from portal.access import Visit, visit
from portal.forms import AnswerForm, DeadlineForm, FreshLinkForm


@require_GET
def issue_page(request: HttpRequest, token: str) -> HttpResponse:
    return _page(request, visit(request, token))


@require_GET
def company_issues(request: HttpRequest, token: str) -> HttpResponse:
    found = visit(request, token)
    issues = [(issue, services.page_link(issue.pk, found.contact)) for issue in selectors.open_issues(found.contact)]
    return render(request, "portal/issues.html", {"visit": found, "issues": issues,
                                                  "back_url": services.page_link(found.issue.pk, found.contact)})


@require_POST
def answer(request: HttpRequest, token: str) -> HttpResponse:
    found = visit(request, token)
    form = AnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            landed = services.answer(issue=found.issue, contact=found.contact, body=form.cleaned_data["body"],
                                     files=form.cleaned_data["files"], token=form.cleaned_data["token"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Thank you: your answer is on the issue and we have been told. A copy went to "
                                        "%(address)s.") % {"address": found.address})
            return redirect(services.page_link(landed.pk, found.contact))
    return _page(request, found, answer_form=form, status=400)


@require_POST
def deadline(request: HttpRequest, token: str) -> HttpResponse:
    found = visit(request, token)
    form = DeadlineForm(request.POST)
    if form.is_valid():
        try:
            issue_services.set_deadline(issue=found.issue, deadline=form.cleaned_data["deadline"], by=None,
                                        contact=found.contact, token=form.cleaned_data["token"])
        except ValidationError as error:
            form.add_error("deadline", ValidationError(error.messages))
        else:
            messages.success(request, _("Noted: you need this by %(date)s. A copy went to %(address)s.") % {
                "date": when(form.cleaned_data["deadline"]), "address": found.address})
            return redirect(services.page_link(found.issue.pk, found.contact))
    return _page(request, found, deadline_form=form, status=400)


@require_http_methods(["GET", "POST"])
def fresh_link(request: HttpRequest) -> HttpResponse:
    """Ask for fresh links by typing an address: the same answer whoever types what (no enumeration)."""
    form = FreshLinkForm(request.POST or None)
    if request.method == "POST":
        throttle.fresh_link_request(request)
        if form.is_valid():
            services.send_fresh_links(address=form.cleaned_data["email"], now=timezone.now())
            return render(request, "portal/fresh_link_sent.html")
    return render(request, "portal/fresh_link.html", {"form": form}, status=400 if form.errors else 200)


def _page(request: HttpRequest, found: Visit, *, status: int = 200, **forms) -> HttpResponse:
    forms.setdefault("answer_form", AnswerForm())
    forms.setdefault("deadline_form", DeadlineForm())
    return render(request, "portal/issue.html", page.context(found, **forms), status=status)
