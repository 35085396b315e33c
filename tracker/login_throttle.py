"""Login throttling: django-axes locks a username at an address; this also locks an address that sprays.

Axes compares one failure count with one limit (AXES_FAILURE_LIMIT). Counting per (username, address)
keeps one person's typos from locking anyone else out, but an address that tries one password on each of
many usernames (password spraying) never reaches the limit for any pair. So the address's failures over
all usernames count too, against their own, higher limit (LOGIN_ADDRESS_FAILURE_LIMIT).

Why not axes' own ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]``: it has one
limit for both, and a success would reset the whole address (AXES_RESET_ON_SUCCESS), so a sprayer holding
one real account could wipe its count by logging in. Here a success resets only its own pair.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


class PairAndAddressHandler(AxesDatabaseHandler):
    """Axes' database handler, plus a lock on an address that failed too often across usernames."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if address_failures(request) < settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return failures
        # Axes locks when this count reaches its limit, before the password is even checked.
        request.login_address_locked = True  # the lockout page says it is the address, not the account
        return max(failures, get_failure_limit(request, credentials))


def address_failures(request: HttpRequest) -> int:
    """Failed log-ins from this request's address within the cool-off, whatever the username."""
    recent = AccessAttempt.objects.filter(ip_address=request.axes_ip_address,
                                          attempt_time__gte=get_cool_off_threshold(request))
    return recent.aggregate(total=Sum("failures_since_start"))["total"] or 0
