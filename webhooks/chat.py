"""What a chat channel reads: a red issue, a raise to red or a breach in one line with a link, in the endpoint's
language, shaped as a Slack-compatible incoming webhook or a Microsoft Teams one expects. Rendered by the worker
from the payload frozen when the event was emitted."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from webhooks.models import EventType, Format

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass(frozen=True)
class Message:
    headline: str
    link_text: str
    url: str
    details: str


def body(payload: dict, *, kind: str, language: str) -> dict:
    """The chat message for a payload: ``kind`` is the endpoint's format (slack or teams)."""
    with translation.override(language):
        message = compose(payload)
        if kind == Format.SLACK:
            return slack(message)
        return teams(message, open_label=pgettext("chat message button", "Open"))


def compose(payload: dict) -> Message:
    data = payload.get("data") or {}
    if payload.get("type") == EventType.TEST:
        return Message(_("Inloop test message"), _("Inloop"), settings.SITE_URL,
                       _("This channel will hear about red issues and breaches."))
    issue = data.get("issue") or {}
    owner = (issue.get("owner") or {}).get("name") or _("nobody yet")
    details = _("%(customer)s · owner: %(owner)s") % {"customer": (issue.get("customer") or {}).get("name", ""),
                                                      "owner": owner}
    return Message(headline(payload), f"{issue.get('reference', '')} {issue.get('title', '')}".strip(),
                   issue.get("url") or settings.SITE_URL, details)


def headline(payload: dict) -> str:
    event_type = payload.get("type")
    if event_type == EventType.ISSUE_OPENED:
        return _("Red issue opened")
    if event_type == EventType.ISSUE_UPDATED:
        return _("Raised to red")
    if ((payload.get("data") or {}).get("clock") or {}).get("name") == "acknowledge":
        return _("Not acknowledged in time")
    return _("Customer not updated in time")


def slack(message: Message) -> dict:
    """Slack's incoming webhooks (and Mattermost, Rocket.Chat…): mrkdwn text, a link written <url|text>."""
    return {"text": f"*{escape(message.headline)}*: <{message.url}|{escape(message.link_text)}>\n"
                    f"{escape(message.details)}"}


def teams(message: Message, *, open_label: str) -> dict:
    """A Microsoft Teams incoming webhook (a Workflows "post to a channel" flow or the older connector): a message
    with one Adaptive Card: the title, one line, and an "Open" button."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": f"{message.headline}: {message.link_text}", "weight": "Bolder",
             "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": message.details, "wrap": True},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": open_label, "url": message.url}],
    }
    return {"type": "message", "summary": f"{message.headline}: {message.link_text}",
            "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}]}


def escape(text: str) -> str:
    """The three characters Slack's text treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
