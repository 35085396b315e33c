"""The forms of the customer's pages. They parse what the visitor typed; the rules of the issue stay in the
services (``issues.services.set_deadline``, ``portal.services.answer``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from issues import text
from issues.forms import SentOnce

# "We need this by <date>": by the end of a working day, in the site's time zone (every time on the page is).
DEADLINE_TIME = time(18, 0)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's own pattern): the list of uploaded files, maybe empty."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class AnswerForm(SentOnce):
    body = forms.CharField(label=_("Your answer"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    files = MultipleFileField(label=_("Attach files"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = _("Optional. At most %(count)d files, %(size)s together.") % {
            "count": settings.CUSTOMER_PAGE_MAX_FILES, "size": filesizeformat(settings.CUSTOMER_PAGE_MAX_BYTES)}
        self.fields["body"].max_length = settings.MESSAGE_MAX_CHARS

    def clean_body(self) -> str:
        body = text.trim(self.cleaned_data.get("body"))
        if len(body) > settings.MESSAGE_MAX_CHARS:
            raise ValidationError(_("Your answer is %(length)d characters long; the most we take is %(limit)d.")
                                  % {"length": len(body), "limit": settings.MESSAGE_MAX_CHARS})
        return body

    def clean_files(self) -> list:
        files = self.cleaned_data.get("files") or []
        if len(files) > settings.CUSTOMER_PAGE_MAX_FILES:
            raise ValidationError(ngettext(
                "You chose %(count)d files; at most %(limit)d can go with one answer.",
                "You chose %(count)d files; at most %(limit)d can go with one answer.",
                len(files)) % {"count": len(files), "limit": settings.CUSTOMER_PAGE_MAX_FILES})
        for item in files:
            if item.size > settings.INBOUND_ATTACHMENT_MAX_BYTES:
                raise ValidationError(_("%(name)s is %(size)s; one file may be at most %(limit)s.") % {
                    "name": item.name, "size": filesizeformat(item.size),
                    "limit": filesizeformat(settings.INBOUND_ATTACHMENT_MAX_BYTES)})
        total = sum(item.size for item in files)
        if total > settings.CUSTOMER_PAGE_MAX_BYTES:
            raise ValidationError(_("Your files are %(size)s together; the most we take is %(limit)s.") % {
                "size": filesizeformat(total), "limit": filesizeformat(settings.CUSTOMER_PAGE_MAX_BYTES)})
        return files

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and text.is_blank(cleaned.get("body")) and not cleaned.get("files"):
            raise ValidationError(_("Write your answer, or attach a file."))
        return cleaned


class DeadlineForm(SentOnce):
    deadline = forms.DateField(label=_("We need this by"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_deadline(self) -> datetime:
        """The end of that working day; a day already over is refused with a clear message."""
        day = self.cleaned_data["deadline"]
        moment = datetime.combine(day, DEADLINE_TIME, tzinfo=ZoneInfo(settings.TIME_ZONE))
        if moment <= timezone.now():
            raise ValidationError(_("That day is over: choose a day in the future."))
        if moment > timezone.now() + timedelta(days=3660):
            raise ValidationError(_("Choose a day within the next ten years."))
        return moment


class FreshLinkForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
