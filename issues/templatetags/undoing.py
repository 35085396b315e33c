"""The Undo button beside the message of a quick action that emails the customer (``issues.undo``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from django import template
from django.http import HttpRequest
from django.utils import timezone

from issues.ids import parse_id
from issues.models import Undo

register = template.Library()


@dataclass(frozen=True)
class Offer:
    pk: int
    seconds: int  # left to undo, as the page is rendered; the page's script counts down and then removes it
    next: str  # the page to come back to


@register.simple_tag(takes_context=True)
def undo_offer(context: template.Context, message) -> Offer | None:
    """The message's undo while it can still be used by whoever reads the page, else None."""
    tag = next((tag for tag in (message.extra_tags or "").split() if tag.startswith("undo:")), None)
    pk = parse_id(tag.removeprefix("undo:")) if tag else None
    request = context.get("request")
    if pk is None or request is None or not request.user.is_authenticated:
        return None
    expires_at = (Undo.objects.filter(pk=pk, actor=request.user, undone_at=None)
                  .values_list("expires_at", flat=True).first())
    seconds = math.floor((expires_at - timezone.now()).total_seconds()) if expires_at else 0
    return Offer(pk, seconds, here(request)) if seconds > 0 else None


def here(request: HttpRequest) -> str:
    """The page in the address bar: htmx names it when the message comes in a swapped fragment."""
    shown = urlsplit(request.headers.get("HX-Current-URL", ""))
    if shown.path:
        return shown.path + (f"?{shown.query}" if shown.query else "")
    return request.get_full_path()
