"""The dashboard's small formatting helpers: links into the filtered inbox, ages, shares met."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from issues.models import Team
from issues.reporting.compliance import Share
from issues.templatetags.inloop import span

register = template.Library()
# Below this share met, the figure is shown in red (the number itself still says it).
TARGET_PERCENT = 90


@register.simple_tag
def sees_dashboard(user) -> bool:
    """Whether the navigation offers the dashboard: to team leads and superusers (one EXISTS query)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or Team.objects.filter(lead=user).exists()


@register.simple_tag
def inbox_url(team, **filters: str) -> str:
    """The inbox filtered to exactly what a count counts, within the dashboard's team."""
    query = QueryDict(mutable=True)
    query.update({"team": str(team.pk), **{name: value for name, value in filters.items() if value}})
    return f"{reverse('inbox')}?{query.urlencode()}"


@register.simple_tag
def age(since: datetime | None, now: datetime) -> str:
    """How long ago, rounded down: "45 min", "3 h", "12 d"; a dash when there is nothing to measure."""
    return span(now - since) if since else "—"


@register.filter
def duration(value: timedelta | None) -> str:
    return span(value) if value is not None else "—"


@register.simple_tag
def share(value: Share) -> str:
    """A share met in whole percent, with the counts behind it for the curious (and screen readers)."""
    if value.percent is None:
        return format_html('<span class="text-body-secondary" title="{}">—</span>', _("No cycle ended or breached"))
    counts = _("%(met)d of %(total)d cycles met") % {"met": value.met, "total": value.total}
    css = "text-danger fw-semibold" if value.percent < TARGET_PERCENT else ""
    return format_html('<span class="{}" title="{}">{}&nbsp;%<span class="visually-hidden"> ({})</span></span>',
                       css, counts, value.percent, counts)
