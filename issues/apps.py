from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IssuesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "issues"
    verbose_name = _("Issues")

    def ready(self) -> None:
        # Every app's admin module is loaded by now (the admin app comes first and discovers them).
        from issues.admin import guard_every_admin, name_the_login_throttle

        name_the_login_throttle()
        guard_every_admin()

