"""Inloop's domain: teams own customers, customers raise issues, two clocks watch every open issue.

Only ``issues.services`` writes an Issue; the models hold data, read-side querysets and the
translation between stored columns and the pure clock math in ``issues.sla``.
"""

from issues.models.calendar import BusinessCalendar, ClosedDay, Closure
from issues.models.choices import (
    IS_OPEN,
    OPEN_STATUSES,
    UNRESOLVED,
    Clock,
    EventKind,
    Language,
    Severity,
    Status,
)
from issues.models.feedback import Feedback
from issues.models.heartbeat import Heartbeat
from issues.models.issue import Breach, Issue, IssueEvent, IssueQuerySet, IssueText, Promise
from issues.models.people import Away, Contact, Customer, Profile, Team, Tier
from issues.models.policy import SlaPolicy
from issues.models.rollup import ComplianceBasis, ComplianceDay
from issues.models.saved import SavedView
from issues.models.undo import Undo, UndoAction

__all__ = [
    "IS_OPEN", "OPEN_STATUSES", "Away",
    "Breach", "BusinessCalendar", "ClosedDay", "Closure", "Clock", "ComplianceBasis", "ComplianceDay", "Contact", "Customer", "EventKind", "Feedback", "Heartbeat", "Issue", "IssueEvent",
    "IssueQuerySet", "IssueText", "Language", "Profile", "Promise", "SavedView", "Severity", "SlaPolicy", "Status", "Team", "Tier", "UNRESOLVED", "Undo", "UndoAction",
]
