"""Turn a kind of email, a recipient and a context into subject, text and HTML, with safe headers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation

from notifications.outbox import Email, new_message_id

UNSUBSCRIBE_SALT = "inloop.unsubscribe"
# Dates in emails: with the weekday and a 24-hour time, so "by Friday" is never ambiguous.
DATE_FORMATS = {"en": "D j M Y, H:i", "ko": "Y년 n월 j일 (D) H:i"}
# Anything a mail client might treat as a line break, and other control characters.
LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    language: str
    contact_id: int | None = None


def single_line(text: str, limit: int = 250) -> str:
    """Header values are one line whatever a title contains: no header injection."""
    text = " ".join(LINE_BREAKS.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def issue_link(issue, *, compose: bool = False) -> str:
    path = reverse("issue_detail", kwargs={"pk": issue.pk})
    return site_url(f"{path}?compose=update" if compose else path)


def thread_id(issue) -> str:
    """The issue's first message: every email about the issue refers to it, so clients show one thread."""
    return f"<issue-{issue.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def unsubscribe_token(contact_id: int) -> str:
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(str(contact_id))


def unsubscribe_link(contact_id: int) -> str:
    return site_url(reverse("unsubscribe", kwargs={"token": unsubscribe_token(contact_id)}))


def render(template: str, language: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML from templates/notifications/email/<language>/<template>.*

    The text part is rendered without HTML escaping (it is plain text); the HTML part is escaped.
    """
    base = f"notifications/email/{language}/{template}"
    context = {**context, "date_format": DATE_FORMATS[language]}
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        subject = get_template(f"{base}.subject.txt").template.render(Context(context, autoescape=False))
        text = get_template(f"{base}.txt").template.render(Context(context, autoescape=False))
        html = get_template(f"{base}.html").render(context)
    return single_line(subject), text.strip() + "\n", html


def compose(*, kind: str, template: str, recipient: Recipient, dedupe_key: str, context: dict,
            issue=None, automatic: bool = False) -> Email:
    """One email to one person, with threading and (for customers) one-click unsubscribe."""
    language = recipient.language if recipient.language in {"en", "ko"} else "en"
    headers: dict[str, str] = {}
    context = {**context, "recipient": recipient, "issue": issue}
    if issue is not None:
        context.update(reference=issue.reference, issue_url=issue_link(issue))
        headers.update({"In-Reply-To": thread_id(issue), "References": thread_id(issue)})
    if recipient.contact_id is not None:
        link = unsubscribe_link(recipient.contact_id)
        context["unsubscribe_url"] = link
        headers.update({"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    if automatic:
        headers["Auto-Submitted"] = "auto-generated"
    subject, text, html = render(template, language, context)
    return Email(
        recipient=recipient.email, recipient_name=single_line(recipient.name, 200), language=language,
        subject=subject, body_text=text, body_html=html, kind=kind, dedupe_key=dedupe_key[:255],
        message_id=new_message_id(), issue_id=issue.pk if issue is not None else None,
        contact_id=recipient.contact_id, headers=headers,
    )
