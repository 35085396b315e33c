"""Inloop's domain: teams own customers, customers raise issues, two clocks watch every open issue.

Only ``issues.services`` writes an Issue; the models here hold data, read-side querysets and the
translation between stored columns and the pure clock math in ``issues.sla``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from issues import sla

User = settings.AUTH_USER_MODEL


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


class Profile(models.Model):
    """A staff member's preferences: the language of their pages and emails, and digests."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH)
    receives_digest = models.BooleanField(_("daily digest"), default=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)

    @classmethod
    def language_of(cls, user) -> str:
        """The user's chosen language; English until they choose."""
        profile = getattr(user, "profile", None) if user is not None else None
        return profile.language if profile is not None else Language.ENGLISH


class TeamQuerySet(models.QuerySet):
    def of_person(self, user) -> TeamQuerySet:
        """Teams the user leads or belongs to, as a subquery-friendly queryset of ids."""
        return self.filter(Q(members=user) | Q(lead=user)).values("pk")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    lead = models.ForeignKey(
        User, verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )
    members = models.ManyToManyField(User, verbose_name=_("members"), blank=True, related_name="teams")

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    def has_person(self, user) -> bool:
        """The lead counts as one of the team's people even when not listed as a member."""
        return user.pk == self.lead_id or self.members.filter(pk=user.pk).exists()


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    code = models.CharField(
        _("code"),
        max_length=10,
        unique=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]{1,9}$", _("Use 2-10 capital letters or digits, e.g. ACME."))],
        help_text=_("Short prefix of issue references, e.g. ACME in ACME-42."),
    )
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="customers")
    account_manager = models.ForeignKey(
        User,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_customers",
        help_text=_("The default owner of new issues and the fallback for reminders of unowned ones."),
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH)
    receives_updates = models.BooleanField(
        _("receives updates"),
        default=True,
        help_text=_("Off: the contact only hears when an issue is resolved."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [models.UniqueConstraint(fields=["customer", "email"], name="contact_unique_email")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class SlaPolicy(models.Model):
    """What one severity promises. Business-time windows count working time on the issue's calendar."""

    ACK_CEILING = timedelta(days=1)
    UPDATE_CEILING = timedelta(days=7)

    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, unique=True)
    acknowledge_within = models.DurationField(_("acknowledge within"))
    update_every = models.DurationField(_("update the customer every"))
    business_time = models.BooleanField(
        _("counts business time"),
        default=False,
        help_text=_("On: the windows above count working hours of the team's business calendar."),
    )
    fallback_acknowledge_within = models.DurationField(
        _("acknowledge within, without a business calendar"),
        null=True,
        blank=True,
        help_text=_("Used instead, around the clock, when business time applies but no calendar is set."),
    )
    fallback_update_every = models.DurationField(
        _("update every, without a business calendar"), null=True, blank=True
    )
    warn_at = models.FloatField(
        _("warn at"),
        default=0.75,
        validators=[MinValueValidator(0.05), MaxValueValidator(0.99)],
        help_text=_("Share of the window elapsed at which the owner is reminded (0.75 = three quarters)."),
    )
    auto_status_email = models.BooleanField(
        _("automatic status email"),
        default=True,
        help_text=_("Email the customer a status update when the update clock runs out."),
    )

    class Meta:
        ordering = [Severity.urgency()]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return str(Severity(self.severity).label)

    def clean(self) -> None:
        errors = {}
        if self.business_time:
            if self.fallback_acknowledge_within is None:
                errors["fallback_acknowledge_within"] = _("Business-time policies need a window for teams without a calendar.")
            if self.fallback_update_every is None:
                errors["fallback_update_every"] = _("Business-time policies need a window for teams without a calendar.")
        around_the_clock = [("fallback_acknowledge_within", "fallback_update_every")]
        if not self.business_time:
            around_the_clock.append(("acknowledge_within", "update_every"))
        for ack_field, update_field in around_the_clock:
            ack, update = getattr(self, ack_field), getattr(self, update_field)
            if ack is not None and ack > self.ACK_CEILING:
                errors[ack_field] = _("Inloop promises acknowledgement within one day at most.")
            if update is not None and update > self.UPDATE_CEILING:
                errors[update_field] = _("Inloop promises news at least once a week.")
        for field in ("acknowledge_within", "update_every", "fallback_acknowledge_within", "fallback_update_every"):
            value = getattr(self, field)
            if value is not None and value <= timedelta(0):
                errors[field] = _("The window must be longer than zero.")
        if errors:
            raise ValidationError(errors)

    def rules(self, *, has_business_calendar: bool) -> sla.Rules:
        use_fallback = self.business_time and not has_business_calendar
        return sla.Rules(
            acknowledge_within=self.fallback_acknowledge_within if use_fallback else self.acknowledge_within,
            update_every=self.fallback_update_every if use_fallback else self.update_every,
            warn_at=self.warn_at,
            auto_status_email=self.auto_status_email,
        )


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
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="issues")
    reporter = models.ForeignKey(
        Contact, verbose_name=_("reporter"), null=True, blank=True, on_delete=models.SET_NULL, related_name="issues"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.BLUE)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.NEW)
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_issues"
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
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
    ack_at_risk_at = models.DateTimeField(null=True, blank=True)
    ack_warned_at = models.DateTimeField(null=True, blank=True)
    ack_breached_at = models.DateTimeField(null=True, blank=True)

    # Update clock: one cycle per acknowledgement or human public update.
    update_started_at = models.DateTimeField(_("update clock started"), null=True, blank=True)
    last_public_update_at = models.DateTimeField(_("last public update"), null=True, blank=True)
    promised_update_at = models.DateTimeField(_("next update promised"), null=True, blank=True)
    update_paused_at = models.DateTimeField(null=True, blank=True)
    update_paused_for = models.DurationField(default=timedelta(0))
    update_due_at = models.DateTimeField(_("update due"), null=True, blank=True)
    update_at_risk_at = models.DateTimeField(null=True, blank=True)
    update_warned_at = models.DateTimeField(null=True, blank=True)
    update_breached_at = models.DateTimeField(null=True, blank=True)
    auto_emails_sent = models.PositiveIntegerField(default=0)
    auto_email_due_at = models.DateTimeField(null=True, blank=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        indexes = [
            # Each periodic scan is one range query over rows still waiting for that action,
            # so these indexes stay small however many issues are closed or already handled.
            models.Index(fields=["ack_at_risk_at"], name="issue_ack_warn_scan", condition=IS_OPEN & Q(ack_warned_at=None)),
            models.Index(fields=["ack_due_at"], name="issue_ack_breach_scan", condition=IS_OPEN & Q(ack_breached_at=None)),
            models.Index(
                fields=["update_at_risk_at"], name="issue_update_warn_scan", condition=IS_OPEN & Q(update_warned_at=None)
            ),
            models.Index(
                fields=["update_due_at"], name="issue_update_breach_scan", condition=IS_OPEN & Q(update_breached_at=None)
            ),
            models.Index(fields=["auto_email_due_at"], name="issue_auto_email_scan", condition=IS_OPEN),
            # Read side: what is overdue or at risk right now, for the inbox and the dashboard.
            models.Index(fields=["customer", "ack_due_at"], name="issue_open_ack_due", condition=IS_OPEN),
            models.Index(fields=["customer", "update_due_at"], name="issue_open_update_due", condition=IS_OPEN),
            models.Index(fields=["customer", "status"], name="issue_customer_status"),
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
            auto_emails_sent=self.auto_emails_sent,
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
        )

    def apply_clocks(self, clocks: sla.Clocks) -> None:
        self.ack_due_at = clocks.acknowledge.due_at
        self.ack_at_risk_at = clocks.acknowledge.at_risk_at
        self.update_due_at = clocks.update.due_at
        self.update_at_risk_at = clocks.update.at_risk_at
        self.auto_email_due_at = clocks.auto_email_due_at


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


class Clock(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", _("acknowledge")
    UPDATE = "update", _("update")


class IssueEvent(models.Model):
    """The issue's timeline. Append-only: rows are written once and never changed."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text=_("Empty: the system.")
    )
    at = models.DateTimeField()
    public = models.BooleanField(default=False, help_text=_("Whether the customer may ever see it."))
    body = models.TextField(blank=True)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("issue event")
        verbose_name_plural = _("issue events")
        indexes = [models.Index(fields=["issue", "at"], name="event_issue_at")]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Issue events are append-only.")
        super().save(*args, **kwargs)


class Breach(models.Model):
    """A clock that ran out. One row per clock cycle, however often the scan notices it."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="breaches")
    clock = models.CharField(_("clock"), max_length=12, choices=Clock.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    cycle_started_at = models.DateTimeField(_("cycle started"))
    due_at = models.DateTimeField(_("due"))
    breached_at = models.DateTimeField(_("breached"))
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)

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
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.clock} {self.breached_at:%Y-%m-%d %H:%M}"
