"""Where the pure clock math meets the database: which rules and which calendar an issue runs on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from issues import sla
from issues.models import BusinessCalendar, ClosedDay, Customer, Issue, SlaPolicy


def clock_setup(issue: Issue) -> tuple[sla.Rules, sla.Calendar]:
    """The issue's severity policy, and the calendar its windows are counted on."""
    policy = SlaPolicy.objects.get(severity=issue.severity, tier=None)
    calendar = None
    if policy.business_time:
        model = business_calendar_of(issue.customer)
        calendar = model.working_calendar() if model else None
    return policy.rules(has_business_calendar=calendar is not None), calendar or sla.AROUND_THE_CLOCK


def business_calendar_of(customer: Customer) -> BusinessCalendar | None:
    """A customer's own calendar overrides its team's."""
    return customer.calendar or customer.team.calendar


def recompute_clocks(issue: Issue) -> None:
    rules, calendar = clock_setup(issue)
    issue.apply_clocks(sla.compute(issue.clock_facts(), rules, calendar))


class ClockSetups:
    """clock_setup for many issues at once, with a fixed number of queries: for the scan and for
    recomputing after an admin edits a policy or a calendar. Issues need customer__team loaded."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        issues = list(issues)
        self.policies = {policy.severity: policy for policy in SlaPolicy.objects.filter(tier=None)}
        calendar_ids = {issue.customer.calendar_id for issue in issues} | {issue.customer.team.calendar_id
                                                                         for issue in issues}
        calendar_ids.discard(None)
        closed = defaultdict(set)
        for calendar_id, day in ClosedDay.objects.filter(calendar__in=calendar_ids).values_list("calendar", "date"):
            closed[calendar_id].add(day)
        self.calendars = {model.pk: model.working_calendar(closed_days=closed[model.pk])
                          for model in BusinessCalendar.objects.filter(pk__in=calendar_ids)}

    def __call__(self, issue: Issue) -> tuple[sla.Rules, sla.Calendar]:
        policy = self.policies[issue.severity]
        calendar = None
        if policy.business_time:
            calendar = self.calendars.get(issue.customer.calendar_id or issue.customer.team.calendar_id)
        return policy.rules(has_business_calendar=calendar is not None), calendar or sla.AROUND_THE_CLOCK

    def team_calendar(self, issue: Issue) -> sla.Calendar | None:
        """The team's own working hours, when staff reminders may wait for them."""
        return self.calendars.get(issue.customer.team.calendar_id)
