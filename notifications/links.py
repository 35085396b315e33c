"""Absolute links that emails carry: to the issue page, and the signed unsubscribe link."""

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
