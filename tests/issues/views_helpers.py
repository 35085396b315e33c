"""What the view tests share: a moment in time, and issues made the real way at chosen ages."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.factories import make_issue


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def issues_for(customer, count: int, **fields) -> list:
    """`count` open issues of the customer, opened an hour apart, oldest first."""
    start = ago(hours=count + 1)
    return [make_issue(customer=customer, at=start + timedelta(hours=n), title=f"Issue {n}", **fields)
            for n in range(count)]


def htmx(**headers: str) -> dict:
    return {"HTTP_HX_REQUEST": "true", **{f"HTTP_{k.upper()}": v for k, v in headers.items()}}
