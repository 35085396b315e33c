"""The triage inbox: open issues of my teams, most urgent first, with filters in the URL and bulk actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from issues import saved_views, search, selectors, services, undo
from issues.filters import InboxFilterForm, filter_querystring
from issues.forms import BulkForm
from issues.ids import parse_id
from issues.models import Issue
from issues.views.common import is_htmx

PAGE_SIZE = 25


def render_inbox(request: HttpRequest, filters: QueryDict, *, bulk_form: BulkForm | None = None,
                 status: int = 200) -> HttpResponse:
    customers = selectors.visible_customers(request.user).only("name", "slug").order_by("name")
    people = list(selectors.people_of(request.user))  # for the owner filter and the bulk bar's owners: one query
    filter_form = InboxFilterForm(filters, customers=customers, people=people, user=request.user)
    now = timezone.now()
    query = filter_form.query()
    paginator = Paginator(selectors.SortedPages(
        selectors.inbox(request.user, query, now=now, customers=filter_form.customer_ids)), PAGE_SIZE)
    page = paginator.get_page(filters.get("page"))
    context = {
        "filter_form": filter_form,
        "page": page,
        "now": now,
        "filters": filter_querystring(filters),
        "filters_without_page": filter_querystring(filters, page=False),
        "presets": saved_views.PRESETS,
        "saved_views": saved_views.views_of(request.user),
        "by_reference": search.reference(query.q) is not None,
        "bulk_form": bulk_form or BulkForm(people=selectors.people_of(request.user)),  # read only when sent
        "people": people,
        # After a refusal the boxes ticked before stay ticked.
        "checked": ticked(bulk_form),
    }
    wants_rows = is_htmx(request) and request.headers.get("HX-Target") in {"inbox-results", "bulk-form"}
    template = "issues/_inbox_results.html" if wants_rows else "issues/inbox.html"
    return render(request, template, context, status=status)


def ticked(form: BulkForm | None) -> set[int]:
    if form is None or not form.is_bound:
        return set()
    return {number for number in map(parse_id, form.data.getlist("issues")) if number is not None}


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    return render_inbox(request, request.GET)


def apply_bulk(request: HttpRequest, issues: list[Issue], data: dict) -> None:
    """One service call per selected issue; what one issue refuses does not stop the others. Acknowledging
    emails customers: the whole batch is one action, with one Undo (``issues.undo``)."""
    if data["action"] == "acknowledge":
        batch = undo.acknowledge_all(issues=issues, by=request.user)
        done, refused, held = len(batch.done), batch.refused, batch.undo
    else:
        done, refused, held = 0, [], None
        for issue in issues:
            try:
                if data["action"] == "assign":
                    services.assign(issue=issue, owner=data["owner"], by=request.user)
                elif data["action"] == "severity":
                    services.change_severity(issue=issue, severity=data["severity"], by=request.user)
                done += 1
            except ValidationError as error:
                refused.append((issue, error))
    if done:
        messages.success(request, ngettext("%(n)d issue changed.", "%(n)d issues changed.", done) % {"n": done},
                         extra_tags=f"undo:{held.pk}" if held is not None else "")
    for issue, error in refused:
        messages.warning(request, f"{issue.reference}: {' '.join(error.messages)}")


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    filters = QueryDict(request.POST.get("filters", ""))
    form = BulkForm(request.POST, people=selectors.people_of(request.user))
    if not form.is_valid():
        return render_inbox(request, filters, bulk_form=form, status=400)
    wanted = set(form.cleaned_data["issues"])
    issues = list(Issue.objects.visible_to(request.user).select_related("customer__team").filter(pk__in=wanted))
    if len(issues) != len(wanted):
        raise Http404
    apply_bulk(request, sorted(issues, key=lambda issue: issue.pk), form.cleaned_data)
    if is_htmx(request):
        return render_inbox(request, filters)
    return redirect(f"{reverse('inbox')}?{filter_querystring(filters)}")
