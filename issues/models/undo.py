"""A customer-facing quick action held for a few seconds, while the person who acted may take it back."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from issues.models.issue import Issue
from issues.text import person_name


class UndoAction(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", _("acknowledge")
    RESOLVE = "resolve", _("resolve")


class Undo(models.Model):
    """What a quick action that emails the customer (acknowledge, resolve) changed, kept while its emails wait
    in the outbox (``settings.UNDO_SECONDS``) so ``issues.undo.undo`` can put everything back: the issues'
    fields as they were, the breaches it cleared, the promises it settled or made, the timeline events and the
    emails it wrote."""

    Action = UndoAction

    # Named after its cause: the action, its author, its instant and its issues. Recorded twice, it is one row.
    cause = models.CharField(_("cause"), max_length=255, unique=True)
    action = models.CharField(_("action"), max_length=16, choices=UndoAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.CASCADE,
                              related_name="+")
    issues = models.ManyToManyField(Issue, verbose_name=_("issues"), related_name="+")
    at = models.DateTimeField(_("done"))
    expires_at = models.DateTimeField(_("may be undone until"))
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    # {"issues": {pk: {field: [before, after]}}, "breaches": [pk, ...] (cleared), "promises_settled": [pk, ...],
    #  "promises_made": [pk, ...]}: only what the action changed.
    changes = models.JSONField(_("what it changed"), default=dict)
    # The events it wrote, as they were (a copy: undoing removes them from the timeline).
    events = models.JSONField(_("events it wrote"), default=list)
    # The emails it queued and held: [{"key": dedupe key, "recipient": ..., "kind": ...}].
    emails = models.JSONField(_("emails it held"), default=list)

    class Meta:
        ordering = ("-at", "-id")
        verbose_name = _("undo")
        verbose_name_plural = _("undos")

    def __str__(self) -> str:
        return _("%(action)s by %(actor)s at %(at)s") % {
            "action": self.get_action_display(), "actor": person_name(self.actor),
            "at": formats.date_format(timezone.localtime(self.at), "Y-m-d H:i:s T")}

    @property
    def issue_ids(self) -> list[int]:
        return sorted(int(pk) for pk in self.changes.get("issues", {}))
