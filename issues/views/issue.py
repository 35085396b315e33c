"""The issue page and its actions. Each action parses one form and calls one service.

htmx requests get the page's body back (with the form's errors, status 400, when the service says no);
other requests are redirected after a change (post-redirect-get) or get the full page with the errors.
"""

from __future__ import annotations

from typing import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from issues import selectors, services
from issues.forms import (
    AssignForm,
    BuiltOnState,
    DeadlineForm,
    NoteForm,
    PublicUpdateForm,
    RecipientsForm,
    ResolveForm,
    SeverityForm,
    StatusForm,
    add_service_error,
    offer_contacts,
)
from issues.models import Issue, IssueEvent
from issues.views.common import is_htmx, issue_action, only_get


def compose_draft(issue: Issue) -> str:
    """The start of an honest status update, in the customer's language, for the owner to complete."""
    with translation.override(issue.customer.language):
        return _("Here is an update on “%(title)s”: ") % {"title": issue.title}


def page_forms(issue: Issue, *, contacts: selectors.IssueContacts, compose: bool = False,
               **bound: forms.Form) -> dict[str, forms.Form]:
    update_form = PublicUpdateForm(initial={"body": compose_draft(issue)} if compose else None)
    if compose:
        update_form.fields["body"].widget.attrs.update(autofocus=True, **{"data-compose": "true"})
    people = selectors.team_people([issue.customer.team_id])
    return {
        "update_form": update_form,
        "note_form": NoteForm(),
        "assign_form": AssignForm(people=people, issue=issue, initial={"owner": issue.owner_id}),
        "severity_form": SeverityForm(issue=issue, initial={"severity": issue.severity}),
        "status_form": StatusForm(issue=issue),
        "resolve_form": ResolveForm(),
        "deadline_form": DeadlineForm(issue=issue),
        "recipients_form": RecipientsForm(issue=issue, contacts=contacts.contacts),
    } | bound


def render_issue(request: HttpRequest, issue: Issue, *, status: int = 200, compose: bool = False,
                 **bound: forms.Form) -> HttpResponse:
    contacts = selectors.issue_contacts(issue)
    if "recipients_form" in bound:
        offer_contacts([bound["recipients_form"].fields["cc"]], contacts.contacts, show_customer=False)
    context = {
        "issue": issue,
        "clocks": issue.stored_clocks(),
        "events": selectors.timeline(issue),
        "now": timezone.now(),
        "recipients": contacts.recipients,
        "to": contacts.to,
        "waiting_reminder_days": settings.WAITING_REMINDER_WORKING_DAYS,
        **page_forms(issue, contacts=contacts, compose=compose, **bound),
    }
    template = "issues/_issue.html" if is_htmx(request) else "issues/detail.html"
    return render(request, template, context, status=status)


@login_required
def issue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    issue = selectors.issue_page(request.user, pk)
    if issue is None:
        raise Http404
    return only_get(request) or render_issue(request, issue, compose=request.GET.get("compose") == "update")


def submit(request: HttpRequest, issue: Issue, form: forms.Form, name: str,
           call: Callable[[dict], object], done: str | Callable[[object], tuple[int, str]]) -> HttpResponse:
    """Validate, call the service, and answer: the fresh page, or the form with its errors (400).
    ``done``: what to tell the person, or how to tell it (level, text) from what the service returned."""
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            level, text = done(result) if callable(done) else (messages.SUCCESS, done)
            messages.add_message(request, level, text)
            if not is_htmx(request):
                return redirect(issue)
            return render_issue(request, selectors.issue_page(request.user, issue.pk))
    # The service rolled back; read the issue afresh so the page shows what is stored.
    fresh = selectors.issue_page(request.user, issue.pk)
    if isinstance(form, BuiltOnState):
        form.now_seen(fresh)
    return render_issue(request, fresh, status=400, **{name: form})


def update_sent(event: IssueEvent) -> tuple[int, str]:
    """An update none of the issue's recipients received is not news (``services.post_update``): say so."""
    if event.data.get("received_by") == 0:
        return messages.WARNING, (_("Nobody received this update by email: it is on the timeline only and the "
                                    "update clock keeps running. Call %(customer)s.")
                                  % {"customer": event.issue.customer.name})
    if event.data.get("asks"):
        issue = event.issue
        return messages.SUCCESS, (_("Sent: the issue waits for the customer's answer. Without one they are "
                                    "reminded on %(remind)s, and on %(ends)s the update clock runs again.")
                                  % {"remind": local_time(issue.waiting_remind_at),
                                     "ends": local_time(issue.waiting_ends_at)})
    return messages.SUCCESS, _("Your update is on the timeline and on its way to the customer.")


def local_time(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "D Y-m-d H:i") if moment else "—"


@issue_action
def post_update(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, PublicUpdateForm(request.POST), "update_form",
        lambda data: services.post_update(issue=issue, by=request.user, public=True, body=data["body"],
                                          promised_update_at=data["promised_update_at"], token=data["token"],
                                          wait=data["wait"]),
        update_sent,
    )


@issue_action
def change_recipients(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, RecipientsForm(request.POST, issue=issue), "recipients_form",
        lambda data: services.change_recipients(issue=issue, cc=data["cc"], by=request.user),
        _("Recipients changed: they receive the issue's emails from now on."),
    )


@issue_action
def add_note(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, NoteForm(request.POST), "note_form",
        lambda data: services.post_update(issue=issue, by=request.user, public=False, body=data["body"],
                                          token=data["token"]),
        _("Internal note added."),
    )


@issue_action
def acknowledge(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, forms.Form(request.POST), "acknowledge_form",
        lambda data: services.acknowledge(issue=issue, by=request.user),
        _("Acknowledged: the customer knows who owns the issue."),
    )


@issue_action
def assign(request: HttpRequest, issue: Issue) -> HttpResponse:
    people = selectors.team_people([issue.customer.team_id])
    return submit(
        request, issue, AssignForm(request.POST, people=people), "assign_form",
        lambda data: services.assign(issue=issue, owner=data["owner"], by=request.user, seen=data["seen"]),
        _("Owner changed."),
    )


@issue_action
def change_severity(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, SeverityForm(request.POST), "severity_form",
        lambda data: services.change_severity(issue=issue, severity=data["severity"], by=request.user,
                                              seen=data["seen"]),
        _("Severity changed; the clocks follow the new severity."),
    )


@issue_action
def change_status(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, StatusForm(request.POST, issue=issue), "status_form",
        lambda data: services.change_status(issue=issue, status=data["status"], by=request.user, seen=data["seen"]),
        _("Status changed."),
    )


@issue_action
def set_deadline(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, DeadlineForm(request.POST), "deadline_form",
        lambda data: services.set_deadline(issue=issue, deadline=data["customer_deadline"], by=request.user,
                                           seen=data["seen"]),
        deadline_noted,
    )


def deadline_noted(issue: Issue) -> tuple[int, str]:
    if issue.customer_deadline is None:
        return messages.SUCCESS, _("The customer's deadline is removed.")
    return messages.SUCCESS, _("The customer's deadline is noted; whoever must act is warned a working day before it.")


@issue_action
def resolve(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, ResolveForm(request.POST), "resolve_form",
        lambda data: services.resolve(issue=issue, by=request.user, body=data["body"]),
        _("Resolved: the customer is told what was done."),
    )


@issue_action
def reopen(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, forms.Form(request.POST), "reopen_form",
        lambda data: services.reopen(issue=issue, by=request.user),
        _("Reopened: a fresh acknowledge clock is running."),
    )
