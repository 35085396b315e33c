"""The customer page's "after resolution" part: what the contact said so far, and the forms (``portal.feedback``)."""

from __future__ import annotations

from django import template

from portal.feedback import Box, box

register = template.Library()
FORMS = ("solved_form", "not_solved_form", "rating_form")


@register.simple_tag(takes_context=True)
def after_resolution(context) -> Box | None:
    """None while the issue is open; refused forms, when the page comes back with one, keep their errors."""
    found = context.get("visit")
    if found is None:
        return None
    return box(found, {name: context.get(name) for name in FORMS if context.get(name) is not None})
