from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The customer's own issue page, reached without logging in by a signed link from our emails."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = _("Customer page")
