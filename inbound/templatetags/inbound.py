"""The navigation's inbound links: the unmatched list, and the development mailbox under DEBUG."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def dev_mailbox_on() -> bool:
    """The development mailbox is offered only while DEBUG is on (make run); never in production."""
    return bool(settings.DEBUG)
