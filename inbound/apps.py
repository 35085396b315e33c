from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboundConfig(AppConfig):
    """Email that comes in: customers' answers, new issues by email, automatic replies and bounces."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "inbound"
    verbose_name = _("Inbound email")
