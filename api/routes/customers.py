"""Customers of the token's person's teams, with their contacts: the customers pages' selectors."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router

from api import present
from api.schemas import CustomerDetail, CustomerSummary, Problem
from issues import selectors

router = Router(tags=["customers"])
READ_ERRORS = {401: Problem, 404: Problem, 422: Problem, 429: Problem}


@router.get("/customers", response={200: list[CustomerSummary], **READ_ERRORS}, operation_id="listCustomers",
            summary="List the customers of my teams", url_name="list_customers")
def list_customers(request: HttpRequest) -> list[dict]:
    """With their open issues, contacts and when they last heard from us, as /customers/ shows them."""
    return [present.customer_summary(customer) for customer in selectors.customers_overview(request.auth.user)]


@router.get("/customers/{slug:slug}", response={200: CustomerDetail, **READ_ERRORS}, operation_id="getCustomer",
            summary="One customer with its contacts", url_name="get_customer")
def get_customer(request: HttpRequest, slug: str) -> dict:
    """Another team's customer is a 404. Its open issues: the `issues` link (GET /api/issues?customer=<slug>)."""
    customer = selectors.customer_page(request.auth.user, slug, now=timezone.now())
    if customer is None:
        raise Http404
    return present.customer_detail(customer, request)
