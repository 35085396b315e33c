"""What a customer's contact says after a resolution: solved or not, and a rating from 1 to 5."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from issues.models.issue import Issue
from issues.models.people import Contact

User = settings.AUTH_USER_MODEL

LOWEST_SCORE, HIGHEST_SCORE = 1, 5


class Feedback(models.Model):
    """One contact's word on one resolution of an issue. Written only by ``issues.feedback``.

    A resolution is named by the instant it happened (``Issue.resolved_at`` at the time): an issue reopened and
    resolved again is a new resolution, which the contact may judge again; within one resolution a second word
    changes this row (a new rating replaces the old one) instead of adding another."""

    issue = models.ForeignKey(Issue, verbose_name=_("issue"), on_delete=models.CASCADE, related_name="feedback")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="feedback")
    resolved_at = models.DateTimeField(_("resolution"))
    # Who owned the issue when the contact first spoke: whose figure it is on the dashboard, even if the
    # issue changes hands later (like ``Promise.owner``).
    owner = models.ForeignKey(User, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # None until said: a contact may rate without saying whether it is solved, and the other way round.
    solved = models.BooleanField(_("solved"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("given"))
    updated_at = models.DateTimeField(_("changed"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("customer feedback")
        verbose_name_plural = _("customer feedback")
        constraints = [
            models.UniqueConstraint(fields=["issue", "contact", "resolved_at"], name="feedback_once_per_resolution"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=LOWEST_SCORE, score__lte=HIGHEST_SCORE),
                name="feedback_score_1_to_5"),
            models.CheckConstraint(condition=Q(solved__isnull=False) | Q(score__isnull=False),
                                   name="feedback_says_something"),
        ]
        indexes = [
            # The dashboard and the CSV read one team's feedback of a recent window, grouped by owner and customer.
            models.Index(fields=["created_at"], name="feedback_given"),
            models.Index(fields=["owner", "created_at"], name="feedback_owner_given"),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.contact_id} {self.resolved_at:%Y-%m-%d %H:%M}"
