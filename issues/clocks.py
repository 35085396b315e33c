"""Where the pure clock math meets the database: which rules and which calendar an issue runs on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from issues import sla
from issues.models import BusinessCalendar, ClosedDay, Customer, Issue, SlaPolicy


def policy_of(issue: Issue) -> SlaPolicy:
    """The policy an issue runs on: its customer's tier's for its severity, else the base policy (one query)."""
    policies = SlaPolicy.objects.filter(Q(tier=None) | Q(tier=issue.customer.tier_id), severity=issue.severity)
    return min(policies, key=lambda policy: policy.tier_id is None)  # the tier's own comes first


def clock_setup(issue: Issue) -> tuple[sla.Rules, sla.Calendar]:
    """The issue's policy (by its customer's tier and its severity), and the calendar its windows count on."""
    policy = policy_of(issue)
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
        # Every policy at once (a few per tier): the base ones by severity, all of them by (tier, severity).
        self.tier_policies = {(policy.tier_id, policy.severity): policy for policy in SlaPolicy.objects.all()}
        self.policies = {severity: policy for (tier, severity), policy in self.tier_policies.items() if tier is None}
        calendar_ids = {issue.customer.calendar_id for issue in issues} | {issue.customer.team.calendar_id
                                                                         for issue in issues}
        calendar_ids.discard(None)
        closed = defaultdict(set)
        for calendar_id, day in ClosedDay.objects.filter(calendar__in=calendar_ids).values_list("calendar", "date"):
            closed[calendar_id].add(day)
        self.calendars = {model.pk: model.working_calendar(closed_days=closed[model.pk])
                          for model in BusinessCalendar.objects.filter(pk__in=calendar_ids)}

    def policy(self, issue: Issue) -> SlaPolicy:
        """As ``policy_of``: the customer's tier's policy for the severity, else the base one."""
        return self.tier_policies.get((issue.customer.tier_id, issue.severity)) or self.policies[issue.severity]

    def __call__(self, issue: Issue) -> tuple[sla.Rules, sla.Calendar]:
        policy = self.policy(issue)
        calendar = None
        if policy.business_time:
            calendar = self.calendars.get(issue.customer.calendar_id or issue.customer.team.calendar_id)
        return policy.rules(has_business_calendar=calendar is not None), calendar or sla.AROUND_THE_CLOCK

    def team_calendar(self, issue: Issue) -> sla.Calendar | None:
        """The team's own working hours, when staff reminders may wait for them."""
        return self.calendars.get(issue.customer.team.calendar_id)
