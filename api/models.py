"""The API's own records: personal tokens (stored hashed) and the first answer to each Idempotency-Key."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

User = settings.AUTH_USER_MODEL


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at=None)


class ApiToken(models.Model):
    """A person's key to the API. Only the SHA-256 of the secret is kept: the secret is long and random, so a
    slow password hash would add nothing, and the lookup is one indexed equality. The prefix is the secret's
    visible start, enough to recognise it in a list without being able to use it."""

    user = models.ForeignKey(User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    read_only = models.BooleanField(_("read only"), default=False,
                                    help_text=_("Reads only: every request that changes something is refused."))
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    hashed_secret = models.CharField(_("hashed secret"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"))
    # Written at most once a minute per token (api.tokens.touch): no write per request.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # The preferences form that created it: the same form sent twice creates one token.
    submission = models.CharField(max_length=80, null=True, blank=True, unique=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key``, per person: the same key and request within
    24 hours get this answer again and change nothing. The row is inserted before the work, in the same
    transaction, so a second request with the same key waits on the unique index until the first is done."""

    user = models.ForeignKey(User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=255)
    # SHA-256 of the method, the path and the body: the same key with another request is a conflict.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    created_at = models.DateTimeField(_("created"), db_index=True)
    status = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    body = models.BinaryField(_("body"), blank=True, default=b"")
    location = models.CharField(_("location"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = (models.UniqueConstraint(fields=("user", "key"), name="api_idempotency_user_key"),)

    def __str__(self) -> str:
        return self.key
