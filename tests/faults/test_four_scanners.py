"""Four scanners at once over a hundred thousand due issues (four beats, or a scan task run by four workers): each
breach, its event, its notices and its automatic email exactly once, and how long the four took together."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import bulk_issues
from tests.issues.test_burst_scan import assert_each_breach_exactly_once, four_scanners

DUE = 100_000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_scanners_over_a_hundred_thousand_due_issues_handle_each_breach_exactly_once(
        customer, contact, manager, lead, figures):
    now = timezone.now()
    bulk_issues(customer=customer, count=DUE, opened_at=now - timedelta(days=3), acknowledged_at=now - timedelta(days=3))

    elapsed, errors = four_scanners(now=now)

    assert errors == []
    assert_each_breach_exactly_once(DUE, owner=manager, lead=lead)
    figures.append(f"{DUE:,} due issues, 4 scanners at once: {elapsed:.1f} s, {DUE / elapsed:,.0f} breaches/s "
                   f"(each with its event, listed in its owner's and lead's notices, 1 automatic email)")
