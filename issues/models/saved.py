"""A person's saved inbox views: a name for a set of filters, kept as the inbox's own query string."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

User = settings.AUTH_USER_MODEL


class SavedView(models.Model):
    """The inbox as someone likes to look at it ("Red at ACME", "Waiting too long"), one click away.

    The filters are stored as the query string the inbox reads, so a view is a named URL: what the
    filters mean is decided by the inbox at the time it is opened, and a filter it no longer knows is
    dropped like any old bookmark."""

    person = models.ForeignKey(User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="saved_views")

    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filters"), max_length=500, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [models.UniqueConstraint(fields=["person", "name"], name="saved_view_unique_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{reverse('inbox')}?{self.query}" if self.query else reverse("inbox")
