"""When periodic work last finished: a stalled beat or worker shows on /healthz."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    name = models.CharField(_("name"), max_length=50, primary_key=True)
    at = models.DateTimeField(_("last finished"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")


    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def beat(cls, name: str, at) -> None:
        cls.objects.update_or_create(name=name, defaults={"at": at})
