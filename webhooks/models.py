"""Webhook endpoints an admin configures, and the delivery outbox: one row per event and endpoint, written in
the transaction of the change that caused it, sent later by a worker (``webhooks.delivery``)."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from issues.models import Language


class EventType(models.TextChoices):
    ISSUE_OPENED = "issue.opened", _("issue opened")
    ISSUE_UPDATED = "issue.updated", _("issue updated")
    CLOCK_AT_RISK = "clock.at_risk", _("clock at risk")
    CLOCK_BREACHED = "clock.breached", _("clock breached")
    CUSTOMER_REPLIED = "customer.replied", _("customer replied")
    CONTACT_UNDELIVERABLE = "contact.undeliverable", _("contact undeliverable")
    # Sent by the admin's "send a test event" only; no endpoint subscribes to it.
    TEST = "webhook.test", _("test event")


SUBSCRIBABLE = [choice for choice in EventType.choices if choice[0] != EventType.TEST]


class Format(models.TextChoices):
    STANDARD = "standard", _("Standard Webhooks (JSON)")
    SLACK = "slack", _("Slack-compatible chat")
    TEAMS = "teams", _("Microsoft Teams chat")


# What a chat channel hears: a team's red issues (opened red, or raised to red) and breaches.
CHAT_EVENTS = frozenset({EventType.ISSUE_OPENED, EventType.ISSUE_UPDATED, EventType.CLOCK_BREACHED})
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64, as receivers' libraries read it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class Endpoint(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])],
                          help_text=_("Where events are posted (http or https)."))
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret, editable=False,
                              help_text=_("Receivers verify each request's signature with it."))
    # While a rotated secret is recent, requests carry a signature with each: receivers switch over unhurried.
    previous_secret = models.CharField(_("previous secret"), max_length=100, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField(_("secret rotated"), null=True, blank=True, editable=False)
    events = models.JSONField(_("events"), default=list, blank=True)
    team = models.ForeignKey("issues.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="webhook_endpoints",
                             help_text=_("Only this team's issues and contacts. Empty: every team."))
    format = models.CharField(_("format"), max_length=10, choices=Format.choices, default=Format.STANDARD,
                              help_text=_("A chat format posts only red issues and breaches, as chat messages."))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH,
                                help_text=_("The language of chat messages."))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    @property
    def is_chat(self) -> bool:
        return self.format != Format.STANDARD


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    endpoint = models.ForeignKey(Endpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE,
                                 related_name="deliveries")
    event_type = models.CharField(_("event"), max_length=32, choices=EventType.choices)
    issue = models.ForeignKey("issues.Issue", verbose_name=_("issue"), null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    # The timeline event that caused it. Undoing a quick action deletes its events, and with them its deliveries
    # (held until the undo window closes, so none has left).
    event = models.ForeignKey("issues.IssueEvent", verbose_name=_("timeline event"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+")
    # Names the cause and the endpoint (e.g. "issue.updated:event-812:3"): emitting it twice writes one row.
    dedupe_key = models.CharField(_("dedupe key"), max_length=255, unique=True)
    # The webhook-id header: the same on every attempt, so receivers drop a repeat.
    message_id = models.UUIDField(_("webhook-id"), default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField(_("payload"))

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Empty once the row is finished (delivered, failed, cancelled): "still to send" is then a plain range over this
    # column, which SQLite's planner matches to the partial indexes below as well as PostgreSQL's does.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(_("lease expires"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_status = models.PositiveIntegerField(_("last response status"), null=True, blank=True)
    response_excerpt = models.TextField(_("last response or error"), blank=True)

    created_at = models.DateTimeField(_("created"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # Delivery looks only at rows still to send: this index holds nothing else.
            models.Index(fields=["next_attempt_at"], name="webhook_to_send",
                         condition=Q(next_attempt_at__isnull=False)),
            # In order per issue and endpoint: "is an earlier one still unfinished?" reads only unfinished rows.
            models.Index(fields=["endpoint", "issue", "id"], name="webhook_unfinished",
                         condition=Q(next_attempt_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return _("%(event)s to %(endpoint)s") % {"event": self.get_event_type_display(), "endpoint": self.endpoint}
