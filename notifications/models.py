"""The outbox: one row per email to send, written in the transaction of the change that caused it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EmailKind(models.TextChoices):
    # To the customer's contacts
    ACKNOWLEDGED = "acknowledged", _("acknowledgement")
    PUBLIC_UPDATE = "public_update", _("status update")
    RESOLVED = "resolved", _("resolved")
    AUTO_STATUS = "auto_status", _("automatic status email")
    # To staff
    ASSIGNED = "assigned", _("assigned")
    AT_RISK = "at_risk", _("at-risk reminder")
    BREACH = "breach", _("breach notice")
    RED_ISSUE = "red_issue", _("red issue")
    REOPENED = "reopened", _("reopened")
    DIGEST = "digest", _("daily digest")


# The kinds written to a customer's contact. One rule reads this set: such an email about an issue whose
# contact was deleted since (the key is SET_NULL, so the record of what was sent survives) has nobody to go
# to and is cancelled; it must never be rendered as a staff email to the old address.
CUSTOMER_KINDS = frozenset({EmailKind.ACKNOWLEDGED, EmailKind.PUBLIC_UPDATE, EmailKind.RESOLVED,
                            EmailKind.AUTO_STATUS})


class OutboundEmail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    recipient = models.EmailField(_("recipient"))
    recipient_name = models.CharField(_("recipient name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=2, default="en")
    # What to say, as queued: rendered into subject, text and HTML by the worker that first claims the row.
    context = models.JSONField(_("context"), default=dict, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=EmailKind.choices)
    issue = models.ForeignKey(
        "issues.Issue", verbose_name=_("issue"), null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    contact = models.ForeignKey(
        "issues.Contact", verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Names the cause (e.g. "breach:42:update:<cycle start>:lead@…"): enqueueing it twice writes one row.
    dedupe_key = models.CharField(_("dedupe key"), max_length=255, unique=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbox")
        indexes = [
            # Delivery looks only at rows still to send: this index holds nothing else.
            models.Index(
                fields=["next_attempt_at"], name="outbox_to_send", condition=Q(status__in=["pending", "sending"])
            ),
            models.Index(fields=["issue", "created_at"], name="outbox_issue"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient}"

    @property
    def lost_its_contact(self) -> bool:
        """A customer email about an issue whose contact was deleted after it was queued. (Issues cascade
        to their emails, so a customer email with its issue but no contact can only mean that.)"""
        return self.kind in CUSTOMER_KINDS and self.contact_id is None and self.issue_id is not None
