"""The reply token: which issue and which contact an answer belongs to, signed so it cannot be forged.

Every email to a customer's contact carries it three ways, because providers rewrite some of them: in
the Message-ID (mail clients quote it back in In-Reply-To and References), in a plus-addressed Reply-To
(``support+<token>@…``) and as a short marker in the footer (quoted back in the reply's text). The token
is short, lower-case letters and digits only, so a mail server that folds the case of an address or a
client that wraps lines leaves it whole.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings

SALT = b"inloop.reply-token"
# i<issue>c<contact>s<signature>: the signature is 10 base32 characters (50 bits) of an HMAC-SHA256.
PATTERN = re.compile(r"\bi(\d{1,18})c(\d{1,18})s([a-z2-7]{10})\b", re.IGNORECASE)


@dataclass(frozen=True)
class ReplyToken:
    issue_id: int
    contact_id: int


def make(issue_id: int, contact_id: int) -> str:
    return f"i{issue_id}c{contact_id}s{_signature(issue_id, contact_id)}"


def find(*texts: str) -> ReplyToken | None:
    """The first genuine token in the texts, in the order given; a forged or damaged one matches nothing."""
    for text in texts:
        for match in PATTERN.finditer(text or ""):
            issue_id, contact_id = int(match.group(1)), int(match.group(2))
            if hmac.compare_digest(match.group(3).lower(), _signature(issue_id, contact_id)):
                return ReplyToken(issue_id, contact_id)
    return None


def reply_address(token: str) -> str | None:
    """The plus address answers go to, when an inbound address is configured (INBOUND_ADDRESS)."""
    address = settings.INBOUND_ADDRESS
    if not address or "@" not in address:
        return None
    local, domain = address.rsplit("@", 1)
    return f"{local}+{token}@{domain}"


def _signature(issue_id: int, contact_id: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode() + SALT, f"{issue_id}:{contact_id}".encode(), hashlib.sha256).digest()
    # Base32 writes each 5 bytes as 8 characters on their own: the first 10 bytes give the first 10 characters.
    return base64.b32encode(digest[:10]).decode("ascii")[:10].lower()
