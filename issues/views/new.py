"""Opening an issue by hand: the customer's account manager owns it unless someone else is chosen (or the
account manager may no longer take it: then it opens unowned, and whoever stands in is told)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from issues import selectors, services
from issues.forms import NewIssueForm, add_service_error
from issues.models import Issue
from notifications.recipients import default_owner


@login_required
@require_http_methods(["GET", "POST"])
def issue_new(request: HttpRequest) -> HttpResponse:
    customers = selectors.visible_customers(request.user).order_by("name")
    people = selectors.people_of(request.user)
    if request.method == "GET":
        # The customer select reloads this page (htmx swaps only the contact and owner fields).
        form = NewIssueForm(initial={"customer": request.GET.get("customer")}, customers=customers, people=people)
        return render(request, "issues/new.html", {"form": form})
    form = NewIssueForm(request.POST, customers=customers, people=people)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issue = services.open_issue(
                customer=data["customer"], reporter=data["reporter"], title=data["title"],
                description=data["description"], severity=data["severity"], cc=data["cc"],
                owner=data["owner"] or default_owner(data["customer"]), by=request.user, token=data["token"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, opened(issue))
            return redirect(issue)
    return render(request, "issues/new.html", {"form": form}, status=400)


def opened(issue: Issue) -> str:
    message = _("Issue %(reference)s opened.") % {"reference": issue.reference}
    if issue.owner_id is None:
        message += " " + _("Nobody owns it yet: choose its owner on this page.")
    return message
