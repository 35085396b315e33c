"""The preferences page's form for a new API token."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from issues.forms import SentOnce


class ApiTokenForm(SentOnce):
    prefix = "api_token"

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("Where it is used, e.g. “Monitoring” or “CRM sync”."),
                           error_messages={"required": _("Name the token after where it is used, e.g. "
                                                         "“Monitoring”.")})
    read_only = forms.BooleanField(label=_("Read only"), required=False,
                                   help_text=_("It may read issues, customers and the dashboard, and change "
                                               "nothing."))
