"""Absolute links that emails carry: to the issue page, and the signed unsubscribe link."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "inloop.unsubscribe"


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def issue_link(issue_id: int, *, compose: bool = False) -> str:
    """The issue page; with compose, the page opens with the public update form ready."""
    path = reverse("issue_detail", kwargs={"pk": issue_id})
    return site_url(f"{path}?compose=update" if compose else path)


def unsubscribe_token(contact_id: int) -> str:
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(str(contact_id))


def unsubscribe_link(contact_id: int) -> str:
    return site_url(reverse("unsubscribe", kwargs={"token": unsubscribe_token(contact_id)}))
