"""The issue page and its actions. Each action parses one form and calls one service.

htmx requests get the page's body back (with the form's errors, status 400, when the service says no);
other requests are redirected after a change (post-redirect-get) or get the full page with the errors.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from issues import composer, selectors, services, undo
from issues.forms import (
    AssignForm,
    BuiltOnState,
    ComposeForm,
    DeadlineForm,
    RecipientsForm,
    SeverityForm,
    StatusForm,
    add_service_error,
    offer_contacts,
)
from issues.models import Issue, IssueEvent, Undo
from issues.views.common import is_htmx, issue_action, only_get

# What a message said, and optionally the extra tags that offer an undo (``partials/messages.html``).
Said = tuple[int, str] | tuple[int, str, str]


def compose_draft(issue: Issue) -> str:
    """The start of an honest status update, in the customer's language, for the owner to complete."""
    with translation.override(issue.customer.language):
        return _("Here is an update on “%(title)s”: ") % {"title": issue.title}


def given_back(request: HttpRequest, issue: Issue) -> dict:
    """What an undone "send and resolve" had said, back in the composer (``views.undo``), once."""
    return request.session.pop(f"inloop:compose:{issue.pk}", None) or {}


def page_forms(issue: Issue, *, contacts: selectors.IssueContacts, compose: str = "", then: str = "",
               given: dict | None = None, **bound: forms.Form) -> dict[str, forms.Form]:
    given = given or {}
    initial = {"body": compose_draft(issue)} if compose == "update" else {}
    initial.update({key: value for key, value in given.items() if key in ("body", "audience")})
    compose_form = ComposeForm(initial=initial, issue=issue, receivers=len(contacts.to),
                               then=given.get("then") or then)
    if compose == "update" or then or given:
        compose_form.fields["body"].widget.attrs.update(autofocus=True, **{"data-compose": "true"})
    people = selectors.team_people([issue.customer.team_id])
    return {
        "compose_form": compose_form,
        "assign_form": AssignForm(people=people, issue=issue, initial={"owner": issue.owner_id}),
        "severity_form": SeverityForm(issue=issue, initial={"severity": issue.severity}),
        "status_form": StatusForm(issue=issue),
        "deadline_form": DeadlineForm(issue=issue),
        "recipients_form": RecipientsForm(issue=issue, contacts=contacts.contacts),
    } | bound


def render_issue(request: HttpRequest, issue: Issue, *, status: int = 200, compose: str = "", then: str = "",
                 contacts: selectors.IssueContacts | None = None, **bound: forms.Form) -> HttpResponse:
    contacts = contacts or selectors.issue_contacts(issue)
    if "recipients_form" in bound:
        offer_contacts([bound["recipients_form"].fields["cc"]], contacts.contacts, show_customer=False)
    given = given_back(request, issue) if "compose_form" not in bound else {}
    context = {
        "issue": issue,
        "clocks": issue.stored_clocks(),
        "events": selectors.timeline(issue),
        "now": timezone.now(),
        "recipients": contacts.recipients,
        "to": contacts.to,
        "waiting_reminder_days": settings.WAITING_REMINDER_WORKING_DAYS,
        **page_forms(issue, contacts=contacts, compose=compose, then=then, given=given, **bound),
    }
    template = "issues/_issue.html" if is_htmx(request) else "issues/detail.html"
    return render(request, template, context, status=status)


@login_required
def issue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    issue = selectors.issue_page(request.user, pk)
    if issue is None:
        raise Http404
    then = request.GET.get("then", "")
    return only_get(request) or render_issue(request, issue, compose=request.GET.get("compose", ""),
                                             then=then if then in composer.THEN else "")


def submit(request: HttpRequest, issue: Issue, form: forms.Form, name: str,
           call: Callable[[dict], object], done: str | Callable[[object], Said]) -> HttpResponse:
    """Validate, call the service, and answer: the fresh page, or the form with its errors (400).
    ``done``: what to tell the person, or how to tell it (level, text[, extra tags]) from what the service
    returned."""
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            level, text, *tags = done(result) if callable(done) else (messages.SUCCESS, done)
            messages.add_message(request, level, text, extra_tags=" ".join(tags))
            if not is_htmx(request):
                return redirect(issue)
            return render_issue(request, selectors.issue_page(request.user, issue.pk))
    # The service rolled back; read the issue afresh so the page shows what is stored.
    fresh = selectors.issue_page(request.user, issue.pk)
    if isinstance(form, BuiltOnState):
        form.now_seen(fresh)
    return render_issue(request, fresh, status=400, **{name: form})


def offer_undo(held: Undo | None) -> str:
    """The extra tag that puts an Undo button beside the message (``issues.templatetags.undoing``)."""
    return f"undo:{held.pk}" if held is not None else ""


def update_sent(event: IssueEvent) -> Said:
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


def composed(sent: composer.Sent) -> Said:
    if sent.then == composer.RESOLVE:
        if sent.undo is not None and sent.undo.emails:
            return (messages.SUCCESS, _("Resolved: in a few seconds the customer is told what was done."),
                    offer_undo(sent.undo))
        return messages.SUCCESS, _("Resolved: the customer is told what was done."), offer_undo(sent.undo)
    if not sent.event.public:
        return messages.SUCCESS, _("Internal note added.")
    return update_sent(sent.event)


def local_time(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "D Y-m-d H:i") if moment else "—"


def send_composed(request: HttpRequest, issue: Issue, data: QueryDict) -> HttpResponse:
    contacts = selectors.issue_contacts(issue)
    form = ComposeForm(data, issue=issue, receivers=len(contacts.to))
    return submit(
        request, issue, form, "compose_form",
        lambda data: composer.send(issue=issue, by=request.user, body=data["body"], token=data["token"],
                                   **public_part(data)),
        composed,
    )


def public_part(data: dict) -> dict:
    """A note shows neither the promise nor "after sending" (they are the customer's): it sends them as none."""
    if data["audience"] == ComposeForm.PUBLIC:
        return {"public": True, "then": data["then"], "promised_update_at": data["promised_update_at"]}
    return {"public": False, "then": composer.KEEP, "promised_update_at": None}


@issue_action
def compose(request: HttpRequest, issue: Issue) -> HttpResponse:
    return send_composed(request, issue, request.POST)


def as_composed(post: QueryDict, prefix: str, **fixed: str) -> QueryDict:
    """A form of the page's earlier versions (update, note, resolve), read as the composer's."""
    data = QueryDict(mutable=True)
    for name in ("body", "promised_update_at", "token"):
        if f"{prefix}-{name}" in post:
            data[f"compose-{name}"] = post[f"{prefix}-{name}"]
    for name, value in fixed.items():
        data[f"compose-{name}"] = value
    return data


@issue_action
def post_update(request: HttpRequest, issue: Issue) -> HttpResponse:
    wait = forms.BooleanField(required=False).to_python(request.POST.get("update-wait"))
    then = composer.WAIT if wait else composer.KEEP
    return send_composed(request, issue, as_composed(request.POST, "update", audience=ComposeForm.PUBLIC, then=then))


@issue_action
def change_recipients(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, RecipientsForm(request.POST, issue=issue), "recipients_form",
        lambda data: services.change_recipients(issue=issue, cc=data["cc"], by=request.user),
        _("Recipients changed: they receive the issue's emails from now on."),
    )


@issue_action
def add_note(request: HttpRequest, issue: Issue) -> HttpResponse:
    return send_composed(request, issue, as_composed(request.POST, "note", audience=ComposeForm.INTERNAL))


@issue_action
def acknowledge(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, forms.Form(request.POST), "acknowledge_form",
        lambda data: undo.acknowledge(issue=issue, by=request.user),
        acknowledged,
    )


def acknowledged(held: Undo | None) -> Said:
    if held is not None and held.emails:
        return (messages.SUCCESS, _("Acknowledged: in a few seconds the customer is told who owns the issue."),
                offer_undo(held))
    return messages.SUCCESS, _("Acknowledged: the customer knows who owns the issue."), offer_undo(held)


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
    return send_composed(request, issue, as_composed(request.POST, "resolve", audience=ComposeForm.PUBLIC,
                                                     then=composer.RESOLVE))


@issue_action
def reopen(request: HttpRequest, issue: Issue) -> HttpResponse:
    return submit(
        request, issue, forms.Form(request.POST), "reopen_form",
        lambda data: services.reopen(issue=issue, by=request.user),
        _("Reopened: a fresh acknowledge clock is running."),
    )
