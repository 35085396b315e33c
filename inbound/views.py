"""Staff's side of inbound email: the unmatched list, a message's original, its attachments; and, under
DEBUG only, the development mailbox where you answer Inloop's emails as the customer would."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header as content_disposition
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from inbound import actions, devmail
from inbound.forms import AttachForm, DevAnswerForm, NewEmailForm, OpenIssueForm
from inbound.models import InboundAttachment, InboundMessage, Source
from inbound.pipeline import receive
from issues import selectors
from issues.forms import add_service_error
from issues.models import Issue
from issues.views.common import only_get

SHOWN = 50


def only(request: HttpRequest, method: str) -> HttpResponse | None:
    """Checked after the lookup, so an email the person may not see stays a 404 whatever the method."""
    return None if request.method == method else HttpResponseNotAllowed([method])


@login_required
@require_GET
def unmatched(request: HttpRequest) -> HttpResponse:
    return render(request, "inbound/unmatched.html", _unmatched_context(request))


def _unmatched_context(request: HttpRequest, bound: dict | None = None) -> dict:
    bound = bound or {}
    waiting = (InboundMessage.objects.waiting_for_staff().visible_to(request.user)
               .select_related("issue__customer", "team").prefetch_related("attachments").order_by("-received_at"))
    customers = selectors.visible_customers(request.user).order_by("name")
    rows = [{"message": message,
             "attach_form": bound.get(("attach", message.pk)) or AttachForm(issues=None, prefix=f"m{message.pk}",
                                                                             initial=_reference(message)),
             "open_form": bound.get(("open", message.pk)) or OpenIssueForm(customers=customers, prefix=f"m{message.pk}")}
            for message in waiting[:SHOWN]]
    return {"rows": rows, "more": max(waiting.count() - SHOWN, 0) if len(rows) == SHOWN else 0}


def _reference(message: InboundMessage) -> dict:
    return {"reference": message.issue.reference} if message.issue_id else {}


def _waiting_message(request: HttpRequest, pk: int) -> InboundMessage:
    return get_object_or_404(InboundMessage.objects.waiting_for_staff().visible_to(request.user), pk=pk)


@login_required
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    message = _waiting_message(request, pk)
    if refused := only(request, "POST"):
        return refused
    form = AttachForm(request.POST, issues=Issue.objects.visible_to(request.user), prefix=f"m{pk}")
    return _act(request, message, form, "attach",
                lambda data: actions.attach(message=message, issue=data["reference"], by=request.user))


@login_required
def open_issue(request: HttpRequest, pk: int) -> HttpResponse:
    message = _waiting_message(request, pk)
    if refused := only(request, "POST"):
        return refused
    form = OpenIssueForm(request.POST, customers=selectors.visible_customers(request.user), prefix=f"m{pk}")
    return _act(request, message, form, "open",
                lambda data: actions.open_as_issue(message=message, customer=data["customer"], by=request.user))


@login_required
def discard(request: HttpRequest, pk: int) -> HttpResponse:
    message = _waiting_message(request, pk)
    if refused := only(request, "POST"):
        return refused
    if request.POST.get("discard") != "yes":  # only the Discard button says so
        return render(request, "inbound/unmatched.html", _unmatched_context(request), status=400)
    try:
        actions.discard(message=message, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Discarded: nobody will be told."))
    return redirect("inbound_unmatched")


def _act(request: HttpRequest, message: InboundMessage, form, name: str, call) -> HttpResponse:
    if form.is_valid():
        try:
            issue = call(form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The email is on %(reference)s.") % {"reference": issue.reference})
            return redirect(issue)
    context = _unmatched_context(request, {(name, message.pk): form})
    return render(request, "inbound/unmatched.html", context, status=400)


@login_required
def original(request: HttpRequest, pk: int) -> HttpResponse:
    """The message as it came, as plain text: never rendered as HTML, so nothing in it runs."""
    message = get_object_or_404(InboundMessage.objects.visible_to(request.user), pk=pk)
    if refused := only_get(request):
        return refused
    response = HttpResponse(bytes(message.raw).decode("utf-8", errors="replace"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="message-{message.pk}.eml"'
    return response


@login_required
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """Always a download, never shown inline: a customer's file is not a page of ours."""
    item = get_object_or_404(InboundAttachment.objects.filter(
        message__in=InboundMessage.objects.visible_to(request.user)), pk=pk)
    if refused := only_get(request):
        return refused
    if not item.data:
        raise Http404
    response = HttpResponse(bytes(item.data), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition(True, item.filename)
    return response


# --- the development mailbox (DEBUG only) --------------------------------------------------------------


def _debug_only() -> None:
    if not settings.DEBUG:
        raise Http404


@login_required
def dev_mailbox(request: HttpRequest) -> HttpResponse:
    _debug_only()
    if refused := only_get(request):
        return refused
    return render(request, "inbound/dev_mailbox.html", devmail.mailbox(request.user))


@login_required
def dev_answer(request: HttpRequest, pk: int) -> HttpResponse:
    _debug_only()
    row = devmail.sent_email(request.user, pk)
    if refused := only(request, "POST"):
        return refused
    form = DevAnswerForm(request.POST, prefix=f"e{pk}")
    if not form.is_valid():
        return render(request, "inbound/dev_mailbox.html", devmail.mailbox(request.user, bound={pk: form}), status=400)
    message = receive(devmail.answer(row, form.cleaned_data["body"]), source=Source.DEV_MAILBOX)
    return _after_dev_email(request, message)


@login_required
def dev_new(request: HttpRequest) -> HttpResponse:
    _debug_only()
    if refused := only(request, "POST"):
        return refused
    form = NewEmailForm(request.POST, contacts=devmail.contacts(request.user))
    if not form.is_valid():
        return render(request, "inbound/dev_mailbox.html", devmail.mailbox(request.user, new_form=form), status=400)
    data = form.cleaned_data
    message = receive(devmail.new_email(data["contact"], data["subject"], data["body"]), source=Source.DEV_MAILBOX)
    return _after_dev_email(request, message)


def _after_dev_email(request: HttpRequest, message: InboundMessage) -> HttpResponse:
    messages.success(request, _("Received as %(outcome)s.") % {"outcome": message.get_outcome_display()})
    if message.issue_id:
        return redirect(message.issue)
    return redirect("dev_mailbox")
