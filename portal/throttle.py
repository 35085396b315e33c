"""How often one link, and one client address, may ask for customer pages: counters in Django's cache.

A fixed window per key (``CUSTOMER_PAGE_RATE_WINDOW_SECONDS``): the first hit of a window creates the counter
with the window as its lifetime, later hits increment it. Good enough to slow down a guesser or a script
hammering a leaked link; a person reading and answering never comes near the limits.
"""

from __future__ import annotations

import hashlib
import logging

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)


class Throttled(Exception):
    """Too many requests: answered with the 429 page (``portal.middleware``)."""


def client_address(request: HttpRequest) -> str:
    """The client as login throttling sees it (REMOTE_ADDR, or behind one proxy its X-Forwarded-For entry)."""
    return get_client_ip_address(request) or "unknown"


def check(*, scope: str, key: str, limit: int, window: int | None = None) -> None:
    """Count one hit for `key` in `scope`; raises Throttled once the window holds more than `limit`. A cache
    that does not answer counts nothing: the customer's page stays open (fail open), and the log says why."""
    window = window or settings.CUSTOMER_PAGE_RATE_WINDOW_SECONDS
    name = f"portal:{scope}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
    try:
        count = _count(name, window)
    except Exception as error:  # noqa: BLE001 - any failure of the cache's server: a connection, a timeout
        log.warning("portal: throttle not counted, the cache failed (%s: %s)", type(error).__name__, error)
        return
    if count > limit:
        raise Throttled(scope)


def _count(name: str, window: int) -> int:
    if cache.add(name, 1, timeout=window):
        return 1
    try:
        return cache.incr(name)
    except ValueError:  # expired between add and incr: a new window
        cache.add(name, 1, timeout=window)
        return 1


def page_request(request: HttpRequest, token: str) -> None:
    """One request for a customer page: counted per link and per client address."""
    check(scope="address", key=client_address(request), limit=settings.CUSTOMER_PAGE_REQUESTS_PER_ADDRESS)
    check(scope="link", key=token, limit=settings.CUSTOMER_PAGE_REQUESTS_PER_LINK)


def fresh_link_request(request: HttpRequest) -> None:
    """Asking for fresh links: per client address and hour (each email address is written to once an hour)."""
    check(scope="fresh", key=client_address(request), limit=settings.CUSTOMER_PAGE_FRESH_LINKS_PER_HOUR,
          window=3600)
