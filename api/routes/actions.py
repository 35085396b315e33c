"""Changing issues: each operation parses its input with the page's form and calls the service the page calls
(``issues.views.new`` and ``issues.views.issue``), so the rules and the words are the pages' own. Every one
answers with the issue as it now stands. They share the issues router (GET and POST /issues share an address)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Status
from ninja.decorators import decorate_view

from api import present, problems
from api.auth import token_of
from api.idempotency import idempotent
from api.routes.issues import router
from api.schemas import (
    AssignIn,
    IssueDetail,
    OpenIssueIn,
    Problem,
    ResolveIn,
    SeverityIn,
    StatusIn,
    UpdateIn,
)
from issues import composer, selectors, services, undo
from issues.forms import AssignForm, ComposeForm, NewIssueForm, SeverityForm, StatusForm
from issues.models import Issue
from notifications.recipients import default_owner

WRITE_ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem}


def valid(form: forms.Form) -> dict:
    """The form's cleaned data, or its refusal as the API's 422 (field: the form's own messages)."""
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return form.cleaned_data


def visible_issue(request: HttpRequest, pk: int) -> Issue:
    """The issue among those the token's person may see, as the pages find it; a 404 before anything is said."""
    issue = Issue.objects.visible_to(request.auth.user).select_related("customer__team").filter(pk=pk).first()
    if issue is None:
        raise Http404
    return issue


def issue_first(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Another team's issue is a 404 before anything else is said about the request: its body, the token's
    rights, its idempotency key (wraps the whole operation, ``ninja.decorators.decorate_view``)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = token_of(request)
        if token is not None and not Issue.objects.visible_to(token.user).filter(pk=kwargs.get("id")).exists():
            return problems.not_found(request, Http404())
        return run(request, *args, **kwargs)

    return wrapper


def as_it_stands(request: HttpRequest, issue: Issue, status: int = 200) -> Status:
    fresh = selectors.issue_page(request.auth.user, issue.pk)
    return Status(status, present.issue_detail(fresh, request, timezone.now()))


def prefixed(form_class: type[forms.Form], **values: object) -> dict:
    """Data for a page's form, under the names (with the prefix) it reads."""
    prefix = form_class.prefix
    return {f"{prefix}-{name}" if prefix else name: value for name, value in values.items() if value is not None}


@router.post("/issues", response={201: IssueDetail, **WRITE_ERRORS}, operation_id="openIssue",
             summary="Open an issue", url_name="open_issue")
@decorate_view(idempotent)
def open_issue(request: HttpRequest, payload: OpenIssueIn, response: HttpResponse) -> Status:
    """As /issues/new/ does: the customer's account manager owns it unless `owner` names someone of its team."""
    user = request.auth.user
    customers = selectors.visible_customers(user).order_by("name")
    customer = customers.filter(slug=payload.customer).first()
    form = NewIssueForm(
        {"customer": customer.pk if customer else payload.customer, "reporter": payload.reporter, "cc": payload.cc,
         "title": payload.title, "description": payload.description, "severity": payload.severity,
         "owner": payload.owner},
        customers=customers, people=selectors.people_of(user))
    data = valid(form)
    issue = services.open_issue(customer=data["customer"], reporter=data["reporter"], title=data["title"],
                                description=data["description"], severity=data["severity"], cc=data["cc"],
                                owner=data["owner"] or default_owner(data["customer"]), by=user)
    response["Location"] = request.build_absolute_uri(f"{request.path.rstrip('/')}/{issue.pk}")
    return as_it_stands(request, issue, 201)


@router.post("/issues/{id:id}/acknowledge", response={200: IssueDetail, **WRITE_ERRORS},
             operation_id="acknowledgeIssue", summary="Acknowledge an issue", url_name="acknowledge_issue")
@decorate_view(idempotent, issue_first)
def acknowledge_issue(request: HttpRequest, id: int) -> Status:
    """Stops the acknowledge clock and tells the customer who owns the issue (after the page's undo window)."""
    issue = visible_issue(request, id)
    undo.acknowledge(issue=issue, by=request.auth.user)
    return as_it_stands(request, issue)


@router.post("/issues/{id:id}/assign", response={200: IssueDetail, **WRITE_ERRORS}, operation_id="assignIssue",
             summary="Give an issue a new owner", url_name="assign_issue")
@decorate_view(idempotent, issue_first)
def assign_issue(request: HttpRequest, id: int, payload: AssignIn) -> Status:
    issue = visible_issue(request, id)
    people = selectors.team_people([issue.customer.team_id])
    data = valid(AssignForm(prefixed(AssignForm, owner=payload.owner), people=people))
    services.assign(issue=issue, owner=data["owner"], by=request.auth.user)
    return as_it_stands(request, issue)


@router.post("/issues/{id:id}/severity", response={200: IssueDetail, **WRITE_ERRORS},
             operation_id="changeSeverity", summary="Change an issue's severity", url_name="change_severity")
@decorate_view(idempotent, issue_first)
def change_severity(request: HttpRequest, id: int, payload: SeverityIn) -> Status:
    """Both clocks are recomputed from their start: a raise may breach at once."""
    issue = visible_issue(request, id)
    data = valid(SeverityForm(prefixed(SeverityForm, severity=payload.severity)))
    services.change_severity(issue=issue, severity=data["severity"], by=request.auth.user)
    return as_it_stands(request, issue)


@router.post("/issues/{id:id}/status", response={200: IssueDetail, **WRITE_ERRORS}, operation_id="changeStatus",
             summary="Move an issue along its workflow", url_name="change_status")
@decorate_view(idempotent, issue_first)
def change_status(request: HttpRequest, id: int, payload: StatusIn) -> Status:
    issue = visible_issue(request, id)
    data = valid(StatusForm(prefixed(StatusForm, status=payload.status), issue=issue))
    services.change_status(issue=issue, status=data["status"], by=request.auth.user)
    return as_it_stands(request, issue)


@router.post("/issues/{id:id}/updates", response={201: IssueDetail, **WRITE_ERRORS}, operation_id="postUpdate",
             summary="Write to the customer or add an internal note", url_name="post_update")
@decorate_view(idempotent, issue_first)
def post_update(request: HttpRequest, id: int, payload: UpdateIn) -> Status:
    """The issue page's composer: to the customer (optionally promising the next update by a date) or an
    internal note, and what happens after sending: keep the status, mark in progress, wait for their answer,
    or resolve (the text then says what was done)."""
    issue = visible_issue(request, id)
    return compose(request, issue, audience=payload.audience, body=payload.body, then=payload.then,
                   promised_update_at=payload.promised_update_at, status=201)


@router.post("/issues/{id:id}/resolve", response={200: IssueDetail, **WRITE_ERRORS}, operation_id="resolveIssue",
             summary="Resolve an issue, saying what was done", url_name="resolve_issue")
@decorate_view(idempotent, issue_first)
def resolve_issue(request: HttpRequest, id: int, payload: ResolveIn) -> Status:
    """Stops both clocks and tells the customer what was done (the one "resolved" email)."""
    issue = visible_issue(request, id)
    return compose(request, issue, audience=ComposeForm.PUBLIC, body=payload.body, then=composer.RESOLVE)


@router.post("/issues/{id:id}/reopen", response={200: IssueDetail, **WRITE_ERRORS}, operation_id="reopenIssue",
             summary="Reopen a resolved issue", url_name="reopen_issue")
@decorate_view(idempotent, issue_first)
def reopen_issue(request: HttpRequest, id: int) -> Status:
    """A fresh acknowledge clock starts; never an instant overdue email."""
    issue = visible_issue(request, id)
    services.reopen(issue=issue, by=request.auth.user)
    return as_it_stands(request, issue)


def compose(request: HttpRequest, issue: Issue, *, audience: str, body: str, then: str | None,
            promised_update_at: datetime | None = None, status: int = 200) -> Status:
    """As the page's composer sends (``issues.views.issue.send_composed``). The page shows a note neither a promise
    nor "after sending"; here a note that asks for either is the composer's to refuse, in its words."""
    receivers = len(selectors.issue_contacts(issue).to)
    form = ComposeForm(prefixed(ComposeForm, audience=audience, body=body, then=then,
                                promised_update_at=promised_update_at), issue=issue, receivers=receivers)
    data = valid(form)
    public = data["audience"] == ComposeForm.PUBLIC
    composer.send(issue=issue, by=request.auth.user, body=data["body"], public=public,
                  then=data["then"] if public or then is not None else composer.KEEP,
                  promised_update_at=data["promised_update_at"])
    return as_it_stands(request, issue, status)
