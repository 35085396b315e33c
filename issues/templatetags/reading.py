"""Times as people say them ("in 3 h", "2 d ago", with the exact time and zone on hover) and the timeline
as a conversation (``issues.story``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from issues import story
from issues.templatetags.inloop import span
from notifications.models import CUSTOMER_KINDS, LISTING_KINDS, EmailKind

register = template.Library()

JUST_NOW = timedelta(minutes=1)


def exact(moment: datetime) -> str:
    """The exact time in the reader's zone, with the zone named: "Mon 2026-11-02 10:00 KST"."""
    return formats.date_format(timezone.localtime(moment), "D Y-m-d H:i T")


def relative(moment: datetime, now: datetime) -> str:
    """How far the moment is from now, in words: "in 3 h", "2 d ago", "just now"."""
    if abs(moment - now) < JUST_NOW:
        return _("just now")
    if moment > now:
        return _("in %(time)s") % {"time": span(moment - now)}
    return _("%(time)s ago") % {"time": span(now - moment)}


@register.simple_tag
def moment(value: datetime | None, now: datetime) -> SafeString | str:
    """A <time> saying how far away it is; its exact time and zone in `datetime` and on hover."""
    if value is None:
        return ""
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), exact(value),
                       relative(value, now))


@register.simple_tag
def story_of(events) -> story.Story:
    return story.arrange(events)


@register.simple_tag
def mail_line(mail: story.Mail) -> str:
    """One email of a change, folded into its line: "status update: sent to 2 contacts"."""
    what = EmailKind(mail.kind).label if mail.kind in EmailKind.values else mail.kind
    n, sent = len(mail.recipients), len(mail.sent & set(mail.recipients))
    to_contacts = mail.kind in CUSTOMER_KINDS
    if mail.kind in LISTING_KINDS:  # about several issues: its delivery is not on this issue's timeline
        text = ngettext("to %(n)d colleague", "to %(n)d colleagues", n)
    elif sent == n:
        text = (ngettext("sent to %(n)d contact", "sent to %(n)d contacts", n) if to_contacts
                else ngettext("sent to %(n)d colleague", "sent to %(n)d colleagues", n))
    elif sent == 0:
        text = (ngettext("queued for %(n)d contact", "queued for %(n)d contacts", n) if to_contacts
                else ngettext("queued for %(n)d colleague", "queued for %(n)d colleagues", n))
    else:
        text = _("sent to %(sent)d of %(n)d")
    return f"{what}: {text % {'n': n, 'sent': sent}}"


@register.simple_tag
def routine_summary(group: story.Routine) -> str:
    n = len(group.entries)
    return ngettext("%(n)d clock line", "%(n)d clock lines", n) % {"n": n}
