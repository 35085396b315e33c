"""What each severity promises: the SLA policies."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from issues import sla
from issues.models.choices import Severity


class SlaPolicy(models.Model):
    """What one severity promises. Business-time windows count working time on the issue's calendar."""

    # The calendar ceilings of the clock module: an around-the-clock window may not promise less.
    ACK_CEILING = sla.ACKNOWLEDGE_CEILING
    UPDATE_CEILING = sla.UPDATE_CEILING

    tier = models.ForeignKey(
        "issues.Tier", verbose_name=_("SLA tier"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="policies", help_text=_("Empty: the base policy, for customers without a tier."),
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
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
    escalate_after = models.DurationField(
        _("escalate after"), null=True, blank=True,
        help_text=_("How long a clock may stay breached after the owner and the lead were told before the team's "
                    "escalation contact hears. Empty: two hours for red, one working day otherwise."),
    )
    auto_status_email = models.BooleanField(
        _("automatic status email"),
        default=True,
        help_text=_("Email the customer a status update when the update clock runs out."),
    )

    class Meta:
        ordering = [F("tier").asc(nulls_first=True), Severity.urgency()]
        constraints = [
            models.UniqueConstraint(fields=["tier", "severity"], name="policy_once_per_tier"),
            models.UniqueConstraint(fields=["severity"], condition=Q(tier=None), name="base_policy_once"),
        ]
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
            waiting_reminder_days=settings.WAITING_REMINDER_WORKING_DAYS,
        )
