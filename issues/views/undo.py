"""Undo a quick action (``issues.undo``): a plain POST from the message that offered it, then back to the page
it was offered on."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from issues import undo
from issues.models import EventKind, Undo


@login_required
def take_back(request: HttpRequest, pk: int) -> HttpResponse:
    # Only one's own: anyone else's undo is a 404, as if it did not exist (before the method is looked at).
    if not Undo.objects.filter(pk=pk, actor=request.user).exists():
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        taken = undo.undo(undo_id=pk, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        taken = Undo.objects.get(pk=pk)
    else:
        messages.success(request, _("Undone: nothing reached the customer."))
        give_back_text(request, taken)
    return redirect(back_to(request, taken))


def give_back_text(request: HttpRequest, taken: Undo) -> None:
    """An undone "send and resolve": its text waits in the composer, to be changed and sent again."""
    for event in taken.events:
        if event["kind"] == EventKind.RESOLVED and event["body"]:
            request.session[f"inloop:compose:{event['issue']}"] = {"body": event["body"], "then": "resolve"}


def back_to(request: HttpRequest, taken: Undo) -> str:
    """The page the undo was offered on; else the issue's page (one issue) or the inbox (several)."""
    wanted = request.POST.get("next", "")
    # A path of this site only (redirect() would take a bare word for a URL name).
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                                                  require_https=request.is_secure()):
        return wanted
    ids = taken.issue_ids
    return reverse("issue_detail", kwargs={"pk": ids[0]}) if len(ids) == 1 else reverse("inbox")
