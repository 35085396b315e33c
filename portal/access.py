"""Who is visiting: the one way into a customer page, for every view of the portal.

``visit(request, token)`` counts the request (``portal.throttle``), then opens the link only if all hold:
the token is one we signed, for this contact, this issue, the contact's current address and their current
link generation (``notifications.links``); the contact still receives the issue (``portal.selectors``);
and the issue is open or stopped being open less than CUSTOMER_PAGE_DAYS_AFTER_RESOLUTION days ago.
Anything else is the same 404 (``DeadLink``), whichever check failed, so a link tells nothing about why.
The page then speaks the contact's language, unless the visitor chose one with the language switch.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import timezone, translation

from issues.models import Contact, Issue
from notifications import links
from portal import selectors, throttle


class DeadLink(Http404):
    """A tampered, expired or revoked link: the 404 page offers to send a fresh one (``portal.middleware``)."""


@dataclass(frozen=True)
class Visit:
    issue: Issue
    contact: Contact
    address: str  # the address the link was sent to: the contact's address (a link for another opens nothing)
    token: str


def visit(request: HttpRequest, token: str) -> Visit:
    """The issue and contact a link opens, or DeadLink (an Http404). Raises throttle.Throttled when this
    link or this client asked too often."""
    throttle.page_request(request, token)
    found = _open(token)
    if found is None:
        raise DeadLink("no such link")
    issue, contact = found
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) not in dict(settings.LANGUAGES):
        translation.activate(contact.language)
        request.LANGUAGE_CODE = contact.language
    return Visit(issue=issue, contact=contact, address=contact.email, token=token)


def _open(token: str) -> tuple[Issue, Contact] | None:
    link = links.customer_page_target(token)
    if link is None:
        return None
    contact = Contact.objects.select_related("customer").filter(pk=link.contact_id).first()
    if contact is None or not links.page_link_signed_for(link, address=contact.email,
                                                         generation=contact.page_links_generation):
        return None
    issue = (Issue.objects.select_related("customer", "owner", "owner__profile")
             .filter(pk=link.issue_id, customer_id=contact.customer_id).first())
    if issue is None or not selectors.receives(contact, issue):
        return None
    expires_at = selectors.link_expires_at(issue)
    if expires_at is not None and expires_at <= timezone.now():
        return None
    return issue, contact
