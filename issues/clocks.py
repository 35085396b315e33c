"""Where the pure clock math meets the database: which rules and which calendar an issue runs on."""

from __future__ import annotations

from issues import sla
from issues.models import Issue, SlaPolicy


def clock_setup(issue: Issue) -> tuple[sla.Rules, sla.Calendar]:
    """The issue's severity policy, and the calendar its windows are counted on."""
    policy = SlaPolicy.objects.get(severity=issue.severity)
    business_calendar = None
    if policy.business_time:
        business_calendar = business_calendar_for(issue)
    rules = policy.rules(has_business_calendar=business_calendar is not None)
    return rules, business_calendar or sla.AROUND_THE_CLOCK


def business_calendar_for(issue: Issue) -> sla.Calendar | None:
    """No business calendars yet: every issue counts around the clock."""
    return None


def recompute_clocks(issue: Issue) -> None:
    rules, calendar = clock_setup(issue)
    issue.apply_clocks(sla.compute(issue.clock_facts(), rules, calendar))
