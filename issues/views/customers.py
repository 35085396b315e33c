"""Customers: who they are, their open issues, their contacts, and how long since they heard from us."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from issues import promises, selectors
from issues.selectors import InboxQuery
from issues.views.common import only_get

# The customer page lists this many of the most urgent open issues; the inbox, filtered, has them all.
OPEN_ISSUES_SHOWN = 50
# ...and the latest resolved or closed ones; the inbox (scope "all") has every one.
PAST_ISSUES_SHOWN = 10


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    return render(request, "issues/customers.html",
                  {"customers": selectors.customers_overview(request.user), "now": timezone.now()})


@login_required
def customer_detail(request: HttpRequest, slug: str) -> HttpResponse:
    now = timezone.now()
    customer = selectors.customer_page(request.user, slug, now=now)
    if customer is None:
        raise Http404
    if refused := only_get(request):
        return refused
    open_issues = selectors.inbox(request.user, InboxQuery(customer=slug), now=now)
    issues = selectors.SortedPages(open_issues)[:OPEN_ISSUES_SHOWN]
    past = list(selectors.past_issues(request.user, customer)[:PAST_ISSUES_SHOWN + 1])
    return render(request, "issues/customer_detail.html", {
        "customer": customer,
        "issues": issues,
        "past_issues": past[:PAST_ISSUES_SHOWN],
        "more_past_issues": len(past) > PAST_ISSUES_SHOWN,
        "contacts": customer.contacts.all(),
        "promises": promises.customer_shares(customer),
        "now": now,
    })
