"""The words of the domain as stored choices: languages, severities, statuses, clocks, event kinds."""

from django.db import models
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    KOREAN = "ko", _("Korean")


class Severity(models.TextChoices):
    RED = "red", _("Red")
    ORANGE = "orange", _("Orange")
    BLUE = "blue", _("Blue")
    GREEN = "green", _("Green")

    @classmethod
    def urgency(cls) -> Case:
        """An expression for ``order_by``: red first, green last."""
        return Case(
            *(When(severity=value, then=Value(rank)) for rank, value in enumerate(cls.values)),
            output_field=IntegerField(),
        )


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = [Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER]
IS_OPEN = Q(status__in=OPEN_STATUSES)
# The same issues, said without parameters: only resolving sets resolved_at, only reopening clears it,
# and an issue is closed only once resolved. SQLite can match a partial index on this (its planner
# cannot see inside a parameterised IN list); PostgreSQL matches either form.
UNRESOLVED = Q(resolved_at=None)


class EventKind(models.TextChoices):
    CREATED = "created", _("opened")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    ASSIGNED = "assigned", _("assigned")
    SEVERITY_CHANGED = "severity_changed", _("severity changed")
    STATUS_CHANGED = "status_changed", _("status changed")
    PUBLIC_UPDATE = "public_update", _("public update")
    INTERNAL_NOTE = "internal_note", _("internal note")
    RESOLVED = "resolved", _("resolved")
    REOPENED = "reopened", _("reopened")
    CLOCK_STARTED = "clock_started", _("clock started")
    CLOCK_RESCHEDULED = "clock_rescheduled", _("clock rescheduled")
    CLOCK_PAUSED = "clock_paused", _("clock paused")
    CLOCK_RESUMED = "clock_resumed", _("clock resumed")
    CLOCK_STOPPED = "clock_stopped", _("clock stopped")
    CLOCK_WARNED = "clock_warned", _("clock at risk")
    CLOCK_BREACHED = "clock_breached", _("clock breached")
    BREACH_CLEARED = "breach_cleared", _("breach cleared")
    AUTO_STATUS_EMAIL = "auto_status_email", _("automatic status email")
    EMAIL_QUEUED = "email_queued", _("email queued")
    EMAIL_SENT = "email_sent", _("email sent")
    # Email that came in (inbound/)
    CUSTOMER_MESSAGE = "customer_message", _("customer wrote")
    INBOUND_AUTOMATIC = "inbound_automatic", _("automatic reply received")
    INBOUND_NOT_A_CONTACT = "inbound_not_a_contact", _("email from someone who is not a contact")
    CONTACT_UNREACHABLE = "contact_unreachable", _("contact cannot be reached")
    FOLLOWED_UP = "followed_up", _("followed up in a new issue")
    # Waiting on the customer, with a limit (scan)
    WAITING_REMINDER = "waiting_reminder", _("customer reminded")
    WAITING_ENDED = "waiting_ended", _("waiting ended")
    # A long closure of the office, announced beforehand (issues.closures)
    CLOSURE_ANNOUNCED = "closure_announced", _("closure announced")
    # Cover, the ladder, deadlines and promises (issue 14)
    ESCALATED = "escalated", _("escalated")
    BREACH_REPEATED = "breach_repeated", _("breach reminder")
    DEADLINE_SET = "deadline_set", _("customer deadline set")
    DEADLINE_WARNED = "deadline_warned", _("customer deadline at risk")
    PROMISE_KEPT = "promise_kept", _("promise kept")
    PROMISE_BROKEN = "promise_broken", _("promise broken")
    # After a resolution, the customer's word (issues.feedback)
    SAID_SOLVED = "said_solved", _("customer said solved")
    SAID_NOT_SOLVED = "said_not_solved", _("customer said not solved")
    RATED = "rated", _("customer rated")
    # A customer-facing quick action taken back within its undo window, before any email left (issues.undo)
    UNDONE = "undone", _("action undone")


class Clock(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", _("acknowledge")
    UPDATE = "update", _("update")
