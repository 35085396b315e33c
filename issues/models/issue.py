"""The issue, its append-only timeline and its breaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from issues import sla
from issues.models.choices import (
    IS_OPEN,
    OPEN_STATUSES,
    UNRESOLVED,
    Clock,
    EventKind,
    Severity,
    Status,
)
from issues.models.people import Contact, Customer, Team

User = settings.AUTH_USER_MODEL


@dataclass(frozen=True)
class ClockColumns:
    """Where one clock keeps its cycle on the Issue: when it started (the cycle's name in every key), when it
    falls due and at risk, and the scan's flags that its reminder and its breach were handled this cycle."""

    started: str
    due: str
    at_risk: str
    warned: str
    breached: str


# Each clock's columns, spelled once: the scan, the emails and the services read them here.
CLOCK_COLUMNS = {
    Clock.ACKNOWLEDGE: ClockColumns("ack_started_at", "ack_due_at", "ack_at_risk_at", "ack_warned_at",
                                    "ack_breached_at"),
    Clock.UPDATE: ClockColumns("update_started_at", "update_due_at", "update_at_risk_at", "update_warned_at",
                               "update_breached_at"),
}
# What the clock math writes (``Issue.apply_clocks``): the columns a recompute saves.
COMPUTED_COLUMNS = [*(name for columns in CLOCK_COLUMNS.values() for name in (columns.due, columns.at_risk)),
                    "auto_email_due_at", "waiting_remind_at", "waiting_ends_at"]


class IssueQuerySet(models.QuerySet):
    def open(self) -> IssueQuerySet:
        return self.filter(IS_OPEN)

    def visible_to(self, user) -> IssueQuerySet:
        """Members see their teams' customers' issues; superusers see all; everyone else nothing."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(customer__team__in=Team.objects.of_person(user))

    def ack_overdue(self, now: datetime) -> IssueQuerySet:
        return self.open().filter(ack_due_at__lte=now)

    def update_overdue(self, now: datetime) -> IssueQuerySet:
        return self.open().filter(update_due_at__lte=now)

    def overdue(self, now: datetime) -> IssueQuerySet:
        return self.open().filter(Q(ack_due_at__lte=now) | Q(update_due_at__lte=now))

    def at_risk(self, now: datetime) -> IssueQuerySet:
        """At risk and not yet breached, on either clock."""
        return self.open().filter(
            Q(ack_at_risk_at__lte=now, ack_due_at__gt=now) | Q(update_at_risk_at__lte=now, update_due_at__gt=now)
        )

    def by_urgency(self) -> IssueQuerySet:
        return self.order_by(Severity.urgency(), "created_at")


class Issue(models.Model):
    # Indexed by the indexes below that lead with it (one of its own would cost every row version written).
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="issues",
                                 db_index=False)
    reporter = models.ForeignKey(
        Contact, verbose_name=_("reporter"), null=True, blank=True, on_delete=models.SET_NULL, related_name="issues"
    )
    # Besides the reporter and the contacts who follow all their company's issues, who hears about this one.
    cc = models.ManyToManyField(Contact, verbose_name=_("copied contacts"), blank=True, related_name="cc_issues")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.BLUE)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.NEW)
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_issues"
    )
    created_by = models.ForeignKey(User, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # When the customer last received anything from us: acknowledgement, update, automatic email.
    customer_last_heard_at = models.DateTimeField(_("customer last heard from us"), null=True, blank=True)

    # Acknowledge clock: one cycle per creation or reopen.
    ack_started_at = models.DateTimeField(_("acknowledge clock started"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    ack_due_at = models.DateTimeField(_("acknowledge due"), null=True, blank=True)
    ack_at_risk_at = models.DateTimeField(_("acknowledge at risk"), null=True, blank=True)
    ack_warned_at = models.DateTimeField(_("acknowledge reminder sent"), null=True, blank=True)
    ack_breached_at = models.DateTimeField(_("acknowledge breached"), null=True, blank=True)

    # Update clock: one cycle per acknowledgement or human public update.
    update_started_at = models.DateTimeField(_("update clock started"), null=True, blank=True)
    last_public_update_at = models.DateTimeField(_("last public update"), null=True, blank=True)
    promised_update_at = models.DateTimeField(_("next update promised"), null=True, blank=True)
    update_paused_at = models.DateTimeField(_("update clock paused"), null=True, blank=True)
    update_paused_for = models.DurationField(_("update clock paused for"), default=timedelta(0))
    # The same pauses in calendar time: the 7-day ceiling does not count time waiting on the customer.
    update_paused_calendar_time = models.DurationField(_("update clock paused for, in calendar time"),
                                                       default=timedelta(0), db_default=timedelta(0))
    update_due_at = models.DateTimeField(_("update due"), null=True, blank=True)
    update_at_risk_at = models.DateTimeField(_("update at risk"), null=True, blank=True)
    update_warned_at = models.DateTimeField(_("update reminder sent"), null=True, blank=True)
    update_breached_at = models.DateTimeField(_("update breached"), null=True, blank=True)
    auto_emails_sent = models.PositiveIntegerField(_("automatic status emails sent"), default=0)
    last_auto_email_at = models.DateTimeField(_("last automatic status email"), null=True, blank=True)
    auto_email_due_at = models.DateTimeField(_("next automatic status email due"), null=True, blank=True)
    # Waiting on the customer, with a limit (set only while waiting; issues.sla.waiting): one polite
    # automatic reminder to the customer, then the wait ends and the update clock runs again.
    waiting_remind_at = models.DateTimeField(_("remind the customer at"), null=True, blank=True)
    waiting_reminded_at = models.DateTimeField(_("customer reminded"), null=True, blank=True)
    waiting_ends_at = models.DateTimeField(_("waiting ends"), null=True, blank=True)
    # The customer's own deadline ("we need this by"), and the owner's warning one working day before it.
    customer_deadline = models.DateTimeField(_("the customer needs this by"), null=True, blank=True)
    deadline_warn_at = models.DateTimeField(_("warn about the customer's deadline at"), null=True, blank=True)
    deadline_warned_at = models.DateTimeField(_("warned about the customer's deadline"), null=True, blank=True)
    # A customer answered an issue closed (or resolved long ago) by email: their answer opened this one.
    follows = models.ForeignKey("self", verbose_name=_("follows up"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="follow_ups")

    objects = IssueQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        indexes = [
            # Each periodic scan is one range query over rows still waiting for that action,
            # so these indexes stay small however many issues are closed or already handled.
            # A row with no time (an acknowledged issue has no acknowledge due time) is not among them: the scans
            # ask for times up to now, which PostgreSQL knows excludes an empty one, and each row version
            # written costs one index entry fewer.
            models.Index(fields=["ack_at_risk_at"], name="issue_ack_warn_scan",
                         condition=UNRESOLVED & Q(ack_warned_at=None, ack_at_risk_at__isnull=False)),
            models.Index(fields=["ack_due_at"], name="issue_ack_breach_scan",
                         condition=UNRESOLVED & Q(ack_breached_at=None, ack_due_at__isnull=False)),
            models.Index(fields=["update_at_risk_at"], name="issue_update_warn_scan",
                         condition=UNRESOLVED & Q(update_warned_at=None, update_at_risk_at__isnull=False)),
            models.Index(fields=["update_due_at"], name="issue_update_breach_scan",
                         condition=UNRESOLVED & Q(update_breached_at=None, update_due_at__isnull=False)),
            models.Index(fields=["auto_email_due_at"], name="issue_auto_email_scan",
                         condition=UNRESOLVED & Q(auto_email_due_at__isnull=False)),
            models.Index(fields=["waiting_remind_at"], name="issue_waiting_remind_scan",
                         condition=Q(waiting_reminded_at=None, waiting_remind_at__isnull=False)),
            models.Index(fields=["waiting_ends_at"], name="issue_waiting_end_scan",
                         condition=Q(waiting_ends_at__isnull=False)),
            models.Index(fields=["deadline_warn_at"], name="issue_deadline_warn_scan",
                         condition=Q(deadline_warned_at=None, deadline_warn_at__isnull=False)),
            # Read side: what is overdue or at risk right now, for the inbox and the dashboard.
            models.Index(fields=["customer", "ack_due_at"], name="issue_open_ack_due", condition=IS_OPEN),
            # It also carries what the inbox sorts by (``selectors.with_urgency``): the inbox finds its page's ids
            # in the index alone, without reading each open issue's wide row (7 ms → 2 at 25,000 open issues).
            models.Index(fields=["customer", "update_due_at"], name="issue_open_update_due", condition=IS_OPEN,
                         include=["id", "severity", "ack_due_at", "ack_at_risk_at", "update_at_risk_at",
                                  "customer_deadline", "created_at"]),
            models.Index(fields=["customer", "status"], name="issue_customer_status"),
            # A customer's page lists its latest resolved and closed issues (``selectors.past_issues``): read in
            # this order from the index, not sorted from all of them (13 ms for a customer with 4,000 of them).
            # Open issues are not in it: the clocks' writes never touch it.
            models.Index(F("customer"), F("resolved_at").desc(), F("id").desc(),
                         name="issue_customer_past", condition=~IS_OPEN),
            # The customers page: when did each customer last hear from us.
            models.Index(fields=["customer", "customer_last_heard_at"], name="issue_customer_last_heard"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("issue_detail", kwargs={"pk": self.pk})

    @property
    def reference(self) -> str:
        return f"{self.customer.code}-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def clock_facts(self) -> sla.Facts:
        return sla.Facts(
            is_open=self.is_open,
            ack_started_at=self.ack_started_at,
            acknowledged_at=self.acknowledged_at,
            update_started_at=self.update_started_at,
            promised_update_at=self.promised_update_at,
            paused_at=self.update_paused_at,
            paused_for=self.update_paused_for,
            paused_calendar_time=self.update_paused_calendar_time,
            auto_emails_sent=self.auto_emails_sent,
            last_auto_email_at=self.last_auto_email_at,
            last_heard_at=self.customer_last_heard_at,
        )

    def stored_clocks(self) -> sla.Clocks:
        """The clocks as last written, without recomputing: what the scan and the pages read."""
        paused = self.update_paused_at is not None and self.update_started_at is not None
        return sla.Clocks(
            acknowledge=sla.Clock(self.ack_started_at if self.ack_due_at else None, self.ack_due_at, self.ack_at_risk_at),
            update=sla.Clock(
                self.update_started_at if (self.update_due_at or paused) else None,
                self.update_due_at,
                self.update_at_risk_at,
                paused=paused and self.is_open,
            ),
            auto_email_due_at=self.auto_email_due_at,
            waiting=sla.Waiting(self.waiting_remind_at, self.waiting_ends_at),
        )

    def start_clock_cycle(self, clock: str) -> None:
        """A new cycle of the clock: its reminder and its breach are still to come."""
        columns = CLOCK_COLUMNS[clock]
        setattr(self, columns.warned, None)
        setattr(self, columns.breached, None)

    def apply_clocks(self, clocks: sla.Clocks) -> None:
        """Store what ``sla.compute`` worked out (the COMPUTED_COLUMNS)."""
        self.ack_due_at = clocks.acknowledge.due_at
        self.ack_at_risk_at = clocks.acknowledge.at_risk_at
        self.update_due_at = clocks.update.due_at
        self.update_at_risk_at = clocks.update.at_risk_at
        self.auto_email_due_at = clocks.auto_email_due_at
        self.waiting_remind_at = clocks.waiting.remind_at
        self.waiting_ends_at = clocks.waiting.ends_at


class IssueText(models.Model):
    """Each issue's title and description as the search reads them on PostgreSQL: a copy the database keeps
    itself (triggers of migration 0019), beside which the text indexes live, so that writing an issue's
    clocks never recomputes them. Nothing of ours writes it. SQLite has no such table: the search reads
    the issues there (``issues.search.issue_texts``)."""

    issue_id = models.BigIntegerField(_("issue"), primary_key=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))

    class Meta:
        managed = False
        db_table = "issues_issuetext"
        required_db_vendor = "postgresql"  # elsewhere there is no such table: dumpdata and flush pass it by
        verbose_name = _("issue's searchable text")
        verbose_name_plural = _("issues' searchable text")


class IssueEvent(models.Model):
    """The issue's timeline. Append-only: rows are written once and never changed."""

    # Indexed by event_issue_at, which leads with it (a second index of its own would cost every entry written).
    issue = models.ForeignKey(Issue, verbose_name=_("issue"), on_delete=models.CASCADE, related_name="events",
                              db_index=False)
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Empty: the system."),
    )
    at = models.DateTimeField(_("when"))
    public = models.BooleanField(_("public"), default=False, help_text=_("Whether the customer may ever see it."))
    body = models.TextField(_("text"), blank=True)
    old_value = models.CharField(_("old value"), max_length=200, blank=True)
    new_value = models.CharField(_("new value"), max_length=200, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    # The form that wrote it: its author and the form's one-time token. A form sent twice (a double
    # click, a retry after a timeout) finds its first event here instead of writing a second one.
    submission = models.CharField(_("form submission"), max_length=80, null=True, blank=True, unique=True,
                                  editable=False)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("issue event")
        verbose_name_plural = _("issue events")
        indexes = [models.Index(fields=["issue", "at"], name="event_issue_at")]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Issue events are append-only.")
        super().save(*args, **kwargs)


class Breach(models.Model):
    """A clock that ran out. One row per clock cycle, however often the scan notices it."""

    # Indexed by breach_once_per_cycle, which leads with it.
    issue = models.ForeignKey(Issue, verbose_name=_("issue"), on_delete=models.CASCADE, related_name="breaches",
                              db_index=False)
    clock = models.CharField(_("clock"), max_length=12, choices=Clock.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    cycle_started_at = models.DateTimeField(_("cycle started"))
    due_at = models.DateTimeField(_("due"))
    breached_at = models.DateTimeField(_("breached"))
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    # The ladder's third rung: when the team's escalation contact hears if the breach still stands, and when
    # they heard (and who). Each working morning while it stands, owner and lead are reminded once.
    escalate_at = models.DateTimeField(_("escalate at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalated_to = models.CharField(_("escalated to"), max_length=200, blank=True)
    last_repeated_on = models.DateField(_("last morning reminder"), null=True, blank=True)
    repeats = models.PositiveIntegerField(_("morning reminders"), default=0)

    class Meta:
        ordering = ["-breached_at"]
        verbose_name = _("breach")
        verbose_name_plural = _("breaches")
        constraints = [
            models.UniqueConstraint(fields=["issue", "clock", "cycle_started_at"], name="breach_once_per_cycle")
        ]
        indexes = [
            models.Index(fields=["breached_at"], name="breach_breached_at"),
            models.Index(fields=["issue", "clock"], name="breach_open", condition=Q(cleared_at=None)),
            models.Index(fields=["escalate_at"], name="breach_escalate_scan",
                         condition=Q(cleared_at=None, escalated_at=None, escalate_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.get_clock_display()} {self.breached_at:%Y-%m-%d %H:%M}"


class Promise(models.Model):
    """A date promised to the customer in a public update ("next update by Friday"): kept when a human public
    update (or the resolution) came by then, broken when the date passed without one."""

    issue = models.ForeignKey(Issue, verbose_name=_("issue"), on_delete=models.CASCADE, related_name="promises")
    event = models.OneToOneField(IssueEvent, verbose_name=_("update"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="promise")
    made_at = models.DateTimeField(_("made"))
    due_at = models.DateTimeField(_("promised by"))
    made_by = models.ForeignKey(User, verbose_name=_("made by"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    # Who owned the issue when it was made: whose promise it is on the dashboard.
    owner = models.ForeignKey(User, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    kept_at = models.DateTimeField(_("kept"), null=True, blank=True)
    broken_at = models.DateTimeField(_("broken"), null=True, blank=True)

    class Meta:
        ordering = ["-made_at"]
        verbose_name = _("promise")
        verbose_name_plural = _("promises")
        indexes = [
            models.Index(fields=["due_at"], name="promise_open_scan", condition=Q(kept_at=None, broken_at=None)),
            models.Index(fields=["issue", "made_at"], name="promise_issue"),
        ]

    def __str__(self) -> str:
        return _("%(issue)s by %(date)s") % {"issue": self.issue_id, "date": f"{self.due_at:%Y-%m-%d %H:%M}"}
