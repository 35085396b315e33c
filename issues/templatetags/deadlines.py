"""The customer's deadline as a badge, and the share of promises kept, for the pages that show them."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from issues.models import Issue
from issues.promises import Share
from issues.selectors import SOON
from issues.templatetags.inloop import Badge

register = template.Library()


def deadline_badge(issue: Issue, now: datetime) -> Badge | None:
    """Passed, within 24 h (at risk, as the inbox ranks it), or further away."""
    deadline = issue.customer_deadline
    if deadline is None:
        return None
    when = formats.date_format(timezone.localtime(deadline), "D n/j H:i")
    title = _("The customer told us they need this by %(when)s") % {
        "when": formats.date_format(timezone.localtime(deadline), "Y-m-d H:i")}
    if deadline <= now:
        return Badge("breached", _("customer deadline passed %(when)s") % {"when": when}, "⚑", title)
    if deadline - now <= SOON:
        return Badge("at_risk", _("customer needs it by %(when)s") % {"when": when}, "⚑", title)
    return Badge("ok", _("customer needs it by %(when)s") % {"when": when}, "⚑", title)


@register.inclusion_tag("partials/clock_badge.html", name="deadline_badge")
def deadline_badge_for(issue: Issue, now: datetime) -> dict:
    return {"badge": deadline_badge(issue, now)}


@register.inclusion_tag("partials/promise_share.html")
def promise_share(share: Share) -> dict:
    """"83 %" with what it counts ("5 of 6 promises kept"); a dash when nothing was promised."""
    return {"share": share}
