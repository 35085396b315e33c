"""What to say to whom when an issue changes. Called by issues.services inside its transaction.

The outbox that delivers these arrives with the notifications work; until then each hook is where
that change will enqueue its emails, and sends nothing.
"""

from __future__ import annotations


def issue_opened(issue) -> None:
    """Red issues: tell the team lead at once."""


def acknowledged(issue) -> None:
    """Tell the customer's contacts who owns the issue and when the next update will come."""


def assigned(issue, *, previous_owner) -> None:
    """Tell the new owner."""


def severity_changed(issue, *, previous_severity: str) -> None:
    """Raised to red: tell the team lead."""


def public_update(event) -> None:
    """Send the update to the customer's contacts who receive updates."""


def resolved(issue, *, body: str) -> None:
    """Tell every contact, muted ones included, what was done and how to reopen."""


def reopened(issue) -> None:
    """Tell the owner the issue is back."""
