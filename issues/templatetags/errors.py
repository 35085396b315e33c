from __future__ import annotations

from django import template

from issues.errors import Reason

register = template.Library()


@register.filter
def plain_reason(exception: object) -> str:
    """The reason a view gave for an error page, or nothing when it gave none meant for people."""
    return exception if isinstance(exception, Reason) else ""
