"""Saved inbox views: save the inbox's current filters under a name, delete one's own."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from issues import saved_views
from issues.filters import filter_querystring


def back_to_inbox(filters: QueryDict) -> HttpResponse:
    query = filter_querystring(filters, page=False)
    return redirect(f"{reverse('inbox')}?{query}" if query else reverse("inbox"))


@login_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    filters = QueryDict(request.POST.get("filters", ""))
    try:
        view = saved_views.save_view(person=request.user, name=request.POST.get("name", ""), filters=filters)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return back_to_inbox(filters)


@login_required
@require_POST
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    if saved_views.delete_view(person=request.user, pk=pk):
        messages.success(request, _("View deleted."))
    return back_to_inbox(QueryDict(request.POST.get("filters", "")))
