"""Absolute links that emails carry: to the issue page, the signed unsubscribe link and the customer's own
issue page."""

import base64
import re
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

UNSUBSCRIBE_SALT = "inloop.unsubscribe"
ADDRESS_TAG_SALT = "inloop.unsubscribe.address"


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def issue_link(issue_id: int, *, compose: bool = False) -> str:
    """The issue page; with compose, the page opens with the public update form ready."""
    path = reverse("issue_detail", kwargs={"pk": issue_id})
    return site_url(f"{path}?compose=update" if compose else path)


def address_tag(address: str) -> str:
    """A keyed digest of an address: the link names the address it was sent to without showing it."""
    return salted_hmac(ADDRESS_TAG_SALT, address.strip().lower()).hexdigest()[:20]


def unsubscribe_token(contact_id: int, address: str) -> str:
    """Signs the contact AND the address the email went to, so a link forwarded from an old address (or
    kept after the contact's address was given to someone else) changes nothing."""
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(f"{contact_id}:{address_tag(address)}")


def unsubscribe_link(contact_id: int, address: str) -> str:
    return site_url(reverse("unsubscribe", kwargs={"token": unsubscribe_token(contact_id, address)}))


def unsubscribe_target(token: str) -> tuple[int, str]:
    """The contact id and address tag a token names. Raises SignatureExpired, or BadSignature for a forged
    token and for one signed before links named their address (it names a contact only: refused)."""
    value = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).unsign(token, max_age=settings.UNSUBSCRIBE_LINK_MAX_AGE)
    contact_id, _, tag = value.partition(":")
    if not contact_id.isascii() or not contact_id.isdigit() or not tag:
        raise signing.BadSignature("the link names no address")
    return int(contact_id), tag


def names_address(tag: str, address: str) -> bool:
    return constant_time_compare(tag, address_tag(address))


# --- the customer's own issue page ---------------------------------------------------------------------

CUSTOMER_PAGE_SALT = "inloop.customer-page"
# <issue>-<contact>-<signature>: the signature is 26 base32 characters (130 bits) of an HMAC-SHA256 keyed
# with SECRET_KEY, so a link cannot be guessed from another one, nor made up.
CUSTOMER_PAGE_TOKEN = re.compile(r"([0-9]{1,19})-([0-9]{1,19})-([a-z2-7]{26})", re.ASCII)


@dataclass(frozen=True)
class PageLink:
    """What a customer page token names; whether it is genuine is ``page_link_signed_for``'s question."""

    issue_id: int
    contact_id: int
    signature: str


def customer_page_token(issue_id: int, contact_id: int, *, address: str, generation: int) -> str:
    """Binds the issue, the contact, the address the email went to and the contact's link generation: a link
    forwarded from an old address, or kept after the admin rotated the contact's links, opens nothing."""
    return f"{issue_id}-{contact_id}-{_page_signature(issue_id, contact_id, address, generation)}"


def customer_page_path(issue_id: int, contact_id: int, *, address: str, generation: int) -> str:
    token = customer_page_token(issue_id, contact_id, address=address, generation=generation)
    return reverse("portal:issue", kwargs={"token": token})


def customer_page_link(issue_id: int, contact_id: int, *, address: str, generation: int) -> str:
    return site_url(customer_page_path(issue_id, contact_id, address=address, generation=generation))


def customer_page_target(token: str) -> PageLink | None:
    """The issue and contact a token claims to be for; None when it is not even shaped like one."""
    match = CUSTOMER_PAGE_TOKEN.fullmatch(token)
    if match is None:
        return None
    return PageLink(int(match.group(1)), int(match.group(2)), match.group(3))


def page_link_signed_for(link: PageLink, *, address: str, generation: int) -> bool:
    return constant_time_compare(link.signature,
                                 _page_signature(link.issue_id, link.contact_id, address, generation))


def _page_signature(issue_id: int, contact_id: int, address: str, generation: int) -> str:
    value = f"{issue_id}:{contact_id}:{generation}:{address.strip().lower()}"
    digest = salted_hmac(CUSTOMER_PAGE_SALT, value, algorithm="sha256").digest()
    return base64.b32encode(digest).decode("ascii")[:26].lower()
