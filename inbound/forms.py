"""Forms of the unmatched list and the development mailbox: they parse input; actions.py decides."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from issues.models import Issue

REFERENCE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]{1,9})-(\d{1,18})\s*$")


class AttachForm(forms.Form):
    reference = forms.CharField(label=_("Issue"), max_length=40,
                                widget=forms.TextInput(attrs={"placeholder": "ACME-42", "autocomplete": "off"}))

    def __init__(self, *args, issues, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.issues = issues

    def clean_reference(self) -> Issue:
        match = REFERENCE.match(self.cleaned_data["reference"])
        issue = match and self.issues.filter(customer__code=match.group(1).upper(), pk=int(match.group(2))).first()
        if not issue:
            raise forms.ValidationError(_("No issue of your teams has that reference; write it like ACME-42."))
        return issue


class OpenIssueForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None, empty_label=_("Choose a customer"))

    def __init__(self, *args, customers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers


class DevAnswerForm(forms.Form):
    body = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)


class ContactChoice(forms.ModelChoiceField):
    def label_from_instance(self, contact) -> str:
        return f"{contact.name} <{contact.email}> ({contact.customer.name})"


class NewEmailForm(forms.Form):
    contact = ContactChoice(label=pgettext_lazy("email sender", "From"), queryset=None,
                            empty_label=_("Choose a contact"))
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)

    def __init__(self, *args, contacts, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
