"""Every email that came in, stored once with its raw source before anything acts on it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from issues.models import Issue, Team


class Source(models.TextChoices):
    PIPE = "pipe", _("mail server pipe")
    IMAP = "imap", _("IMAP mailbox")
    WEBHOOK = "webhook", _("provider webhook")
    DEV_MAILBOX = "dev", _("development mailbox")
    PAGE = "page", _("customer page")


class Outcome(models.TextChoices):
    """What the pipeline made of a message. RECEIVED means stored and not yet acted on."""

    RECEIVED = "received", _("received")
    CUSTOMER_MESSAGE = "customer_message", _("added to an issue")
    NEW_ISSUE = "new_issue", _("opened an issue")
    NOT_A_CONTACT = "not_a_contact", _("from someone who is not a contact")
    UNMATCHED = "unmatched", _("unmatched")
    AUTOMATIC = "automatic", _("automatic reply")
    BOUNCE = "bounce", _("bounce")
    OURS = "ours", _("our own email")
    REFUSED = "refused", _("refused")
    DISCARDED = "discarded", _("discarded")


# Why a message waits for staff. The key is stored (with any technical detail after ": "), the sentence is
# translated when shown, in the reader's language.
REASONS = {
    "unknown sender": _("The sender is not a contact of any customer."),
    "several customers": _("The sender is a contact of several customers: choose which."),
    "another customer's token": _("A contact of another customer answered with this issue's reply token: it was "
                                  "not added to the issue."),
    "not a contact": _("This answers one of our emails, but the sender is not a contact of the issue's customer."),
    "looping": _("This sender opened too many issues by email within an hour (a looping autoresponder?): nothing "
                 "more is opened for them until someone looks."),
    "failed": _("Inloop could not process this email: place it by hand."),
}


class InboundMessageQuerySet(models.QuerySet):
    def waiting_for_staff(self) -> InboundMessageQuerySet:
        """The unmatched list: messages a person has to place (unknown sender, or not a contact)."""
        return self.filter(outcome__in=[Outcome.UNMATCHED, Outcome.NOT_A_CONTACT], handled_at=None)

    def visible_to(self, user) -> InboundMessageQuerySet:
        """What this person may see: their teams' messages and those on issues they may open; admins
        (superusers) see all, including those no team could be worked out for."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(Q(team__in=Team.objects.of_person(user)) | Q(issue__in=Issue.objects.visible_to(user)))


class InboundMessage(models.Model):
    # Unique: "mid:<Message-ID>", or "sha256:<hash of the raw bytes>" when there is no Message-ID, so a
    # message delivered twice, or fetched again after a crash, is stored once.
    key = models.CharField(_("key"), max_length=300, unique=True)
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    raw = models.BinaryField(_("raw source"))
    size = models.PositiveIntegerField(_("size in bytes"))
    received_at = models.DateTimeField(_("received"))

    sender = models.CharField(_("from"), max_length=320, blank=True)
    sender_name = models.CharField(_("sender name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    text = models.TextField(_("new text"), blank=True, help_text=_("The new part of the message, quotes removed."))

    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.RECEIVED)
    reason = models.TextField(_("reason"), blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    issue = models.ForeignKey("issues.Issue", verbose_name=_("issue"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="inbound_messages")
    contact = models.ForeignKey("issues.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="inbound_messages")
    team = models.ForeignKey("issues.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+",
                             help_text=_("Whose unmatched list it is on; empty: the admins'."))
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handled by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = InboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound email")
        indexes = [
            models.Index(fields=["received_at"], name="inbound_to_process", condition=Q(outcome="received")),
            models.Index(fields=["team", "received_at"], name="inbound_unmatched",
                         condition=Q(outcome__in=["unmatched", "not_a_contact"], handled_at=None)),
            models.Index(fields=["sender", "received_at"], name="inbound_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'}"

    @property
    def reason_display(self) -> str:
        """The reason in the reader's language; technical detail (a bounce's diagnostic) as it came."""
        key, _colon, detail = self.reason.partition(": ")
        return str(REASONS[key]) if key in REASONS else self.reason


class InboundAttachment(models.Model):
    message = models.ForeignKey(InboundMessage, verbose_name=_("message"), on_delete=models.CASCADE,
                                related_name="attachments")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    data = models.BinaryField(_("content"))


    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename
