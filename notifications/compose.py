"""Render outbox rows into subject, text and HTML, with threading and unsubscribe headers.

A row is rendered by the worker that claims it: queueing stays a cheap insert (the SLA scan queues
thousands at once) and a batch renders with a fixed number of queries. What was rendered is saved
with the attempt's result, so the admin shows what was sent and a retry sends the same message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation

from issues.models import Contact, Issue, IssueEvent
from notifications import tokens
from notifications.addresses import single_line
from notifications.kinds import (
    CONTEXT_FOR_KIND,
    DATE_FORMATS,
    Lookups,
    customer_facts,
    person,
    staff_facts,
)
from notifications.links import customer_page_link, issue_link, unsubscribe_link
from notifications.models import (
    AUTO_REPLIED_KINDS,
    CUSTOMER_KINDS,
    HUMAN_KINDS,
    LISTING_KINDS,
    OutboundEmail,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


def thread_id(issue_id: int) -> str:
    """The issue's first message: every email about the issue refers to it, so clients show one thread."""
    return f"<issue-{issue_id}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


RENDERED_FIELDS = ["subject", "body_text", "body_html", "headers"]


def render_rows(rows: list[OutboundEmail]) -> list[tuple[OutboundEmail, Exception]]:
    """Render, in memory, the rows not rendered yet. Returns the rows that could not be rendered."""
    todo = [row for row in rows if not row.subject]
    if not todo:
        return []
    lookups = load_lookups(todo)
    failures = []
    for row in todo:
        try:
            fill(row, lookups)
        except Exception as error:  # one broken email must not hold back the rest of the batch
            log.exception("outbox: could not render %s %s", row.kind, row.pk)
            failures.append((row, error))
    return failures


def rendered(row: OutboundEmail) -> OutboundEmail:
    """The row as it will be sent, rendering a copy (not saved) if no worker has rendered it yet."""
    if row.subject:
        return row
    copy = OutboundEmail.objects.get(pk=row.pk)
    fill(copy, load_lookups([copy]))
    return copy


def load_lookups(rows: list[OutboundEmail]) -> Lookups:
    issue_ids = {row.issue_id for row in rows if row.issue_id}
    # An email listing several issues (a breach notice of a burst) names them in its context.
    issue_ids |= {line["id"] for row in rows if row.kind in LISTING_KINDS for line in row.context.get("issues", [])}
    user_ids = {row.context["actor"] for row in rows if row.context.get("actor")}
    event_ids = {row.context[key] for row in rows for key in ("event", "latest_event") if row.context.get(key)}
    return Lookups(
        issues=Issue.objects.select_related("customer__team", "owner").in_bulk(issue_ids),
        users=get_user_model().objects.in_bulk(user_ids),
        events=IssueEvent.objects.select_related("actor").in_bulk(event_ids),
        page_link_generations=dict(Contact.objects.filter(pk__in={row.contact_id for row in rows if row.contact_id})
                                   .values_list("pk", "page_links_generation")),
    )


def fill(row: OutboundEmail, lookups: Lookups) -> None:
    language = row.language if row.language in DATE_FORMATS else "en"
    issue = lookups.issues.get(row.issue_id)
    context = {"recipient": Recipient(row.recipient, single_line(row.recipient_name, 200)), "issue": issue}
    headers: dict[str, str] = {}
    if issue is not None:
        context.update(reference=issue.reference, issue_url=issue_link(issue.pk),
                       compose_url=issue_link(issue.pk, compose=True), owner_name=person(issue.owner, language))
        headers.update({"In-Reply-To": thread_id(issue.pk), "References": thread_id(issue.pk)})
    if row.contact_id is not None:
        # The link names the address it is sent to: it does nothing once the contact's address changes.
        link = unsubscribe_link(row.contact_id, row.recipient)
        # A contact email about no one issue (a closure notice) has no facts and no reply token.
        context.update(unsubscribe_url=link, facts=customer_facts(issue, language, at=row.created_at) if issue is not None else [])
        headers.update({"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
        if issue is not None:
            # The answer finds its issue by this token: in the Message-ID (set when queued), in the plus
            # address answers go to, and in the footer, quoted back in the reply's text.
            token = tokens.make(issue.pk, row.contact_id)
            context.update(reply_token=token)
            # The contact's own page of the issue, for this address (``portal``): dead once it changes.
            if (generation := lookups.page_link_generations.get(row.contact_id)) is not None:
                context.update(page_url=customer_page_link(issue.pk, row.contact_id, address=row.recipient,
                                                           generation=generation))
            if reply_to := tokens.reply_address(token):
                headers["Reply-To"] = reply_to
    elif issue is not None and row.kind not in CUSTOMER_KINDS:
        # Staff facts go to staff kinds only: a customer email whose contact is gone never turns into one.
        context.update(staff_facts(issue, language))
    headers.update(self_description(row.kind))
    context.update(CONTEXT_FOR_KIND[row.kind](row.context, lookups, language))
    row.subject, row.body_text, row.body_html = render(row.kind, language, context)
    row.headers = headers


def self_description(kind: str) -> dict[str, str]:
    """RFC 3834's Auto-Submitted for what a machine sent, and Microsoft's request for no out-of-office answers
    on everything: our email must never start a mail loop."""
    headers = {"X-Auto-Response-Suppress": "OOF, AutoReply"}
    if kind in AUTO_REPLIED_KINDS:
        headers["Auto-Submitted"] = "auto-replied"
    elif kind not in HUMAN_KINDS:
        headers["Auto-Submitted"] = "auto-generated"
    return headers


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
