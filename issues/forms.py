"""Forms of the issue pages. They parse input only; the rules live in ``issues.services``, whose
``ValidationError``s are put back next to the field they name (``add_service_error``)."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from issues import composer
from issues.checks import seen_value
from issues.deadlines import seen_deadline
from issues.ids import parse_id
from issues.models import Contact, Issue, Severity, Status
from issues.selectors import team_people
from issues.services import STATUS_MOVES
from issues.text import person_name

# A form's one-time token as the forms make it (uuid4 hex); anything else counts as no token.
TOKEN = re.compile(r"[0-9a-f]{32}")
DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's error next to the field it names, or above the form when the form lacks it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def one_time_token() -> str:
    return uuid.uuid4().hex


class SentOnce(forms.Form):
    """A form whose sending records once, however often it is sent (a double click, a browser's retry):
    it carries a one-time token, new each time the form is shown, that the service records."""

    # A plain Field: a mangled token must not turn into an error on a field nobody can see.
    token = forms.Field(widget=forms.HiddenInput, required=False, initial=one_time_token)

    def clean_token(self) -> str | None:
        token = self.cleaned_data.get("token")
        return token if isinstance(token, str) and TOKEN.fullmatch(token) else None


class BuiltOnState(forms.Form):
    """A form that changes one field of the issue remembers the value its page showed, so the service can
    refuse to overwrite a colleague's change made since (``checks.check_seen``)."""

    seen_field = ""
    seen = forms.Field(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, issue: Issue | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if issue is not None and not self.is_bound:
            self.fields["seen"].initial = seen_value(issue, self.seen_field)

    def clean_seen(self) -> str | None:
        # Missing (an older page, another client) means "not known": the change is made as before.
        return self.data.get(self.add_prefix("seen")) if self.add_prefix("seen") in self.data else None

    def now_seen(self, issue: Issue) -> None:
        """After a refusal the page shows the current state: sending the form again is a knowing choice."""
        self.data = self.data.copy()
        self.data[self.add_prefix("seen")] = seen_value(issue, self.seen_field)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return person_name(user)


NOTE_BUTTON = _("Add internal note")


class ComposeForm(SentOnce):
    """The issue page's one composer (``issues.composer``): to the customer or an internal note, an optional
    promise, and what happens to the status after sending. It offers the moves the issue's status allows
    (``composer.moves``); what it is sent is checked by the service, which says why it refuses."""

    prefix = "compose"
    PUBLIC, INTERNAL = "public", "internal"

    audience = forms.ChoiceField(label=_("Write"), choices=[(PUBLIC, _("To the customer")), (INTERNAL, _("Internal note"))],
                                 initial=PUBLIC, widget=forms.RadioSelect, required=False)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    promised_update_at = forms.DateTimeField(
        label=_("Promise the next update by"), required=False, widget=DATETIME_LOCAL,
        help_text=_("Optional, to the customer only. They are told when to expect news; the update clock follows "
                    "the promise."),
    )
    # Any of the composer's words is accepted here: one the issue does not allow is the service's to refuse.
    then = forms.ChoiceField(label=_("After sending"), choices=[(value, value) for value in composer.THEN],
                             required=False)

    def __init__(self, *args, issue: Issue, receivers: int, then: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.moves = composer.moves(issue, receivers=receivers)
        offered = [move.value for move in self.moves]
        self.fields["then"].initial = then if then in offered else offered[0]

    def clean_audience(self) -> str:
        # Missing (a page of an older version): to the customer, as the old update form was.
        return self.cleaned_data.get("audience") or self.PUBLIC

    def clean_then(self) -> str:
        # Missing (a page of an older version): the first move on offer, which keeps things as they are.
        return self.cleaned_data.get("then") or self.moves[0].value

    @property
    def chosen(self) -> tuple[str, str]:
        """The audience and the move the form shows as chosen (what was sent, after a refusal)."""
        audience = self["audience"].value() if self["audience"].value() in (self.PUBLIC, self.INTERNAL) else self.PUBLIC
        then = self["then"].value()
        return audience, then if then in [move.value for move in self.moves] else self.moves[0].value

    note_button = NOTE_BUTTON

    @property
    def button(self) -> str:
        """What the one send button says it will do, for the choice shown; the page's script relabels it."""
        audience, then = self.chosen
        if audience == self.INTERNAL:
            return str(self.note_button)
        return next(move.button for move in self.moves if move.value == then)


class AssignForm(BuiltOnState):
    prefix = "assign"
    seen_field = "owner"

    # An unassigned issue's select says so: "Assign" without choosing gives the issue to nobody by mistake.
    owner = PersonChoiceField(label=_("Owner"), queryset=None, empty_label=_("Unassigned"),
                              error_messages={"required": _("Choose who should own this issue.")})

    def __init__(self, *args, people, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people
        # Read the people once (iter: a plain list() would ask for their count first); the rendered select
        # would otherwise ask twice. An owned issue offers people only: nobody un-assigns by accident.
        choices = list(iter(self.fields["owner"].choices))
        owned = kwargs.get("issue") is not None and kwargs["issue"].owner_id is not None
        self.fields["owner"].choices = choices[1:] if owned else choices


class SeverityForm(BuiltOnState):
    prefix = "severity"
    seen_field = "severity"

    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)


class StatusForm(BuiltOnState):
    prefix = "status"
    seen_field = "status"

    status = forms.ChoiceField(label=_("Status"), choices=[])

    def __init__(self, *args, issue: Issue, **kwargs) -> None:
        super().__init__(*args, issue=issue, **kwargs)
        # Resolving has its own form (it may say what was done); offer the other moves the workflow allows.
        # The select shows the current status first; sending it unchanged is refused as "choose another".
        moves = STATUS_MOVES[issue.status] - {Status.RESOLVED}
        self.current = issue.status
        self.moves = [(s.value, s.label) for s in Status if s in moves]
        self.fields["status"].choices = [(issue.status, Status(issue.status).label)] + self.moves
        self.fields["status"].initial = issue.status

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        if status == self.current:
            raise ValidationError(_("The issue is already “%(status)s”: choose the status it should move to.")
                                  % {"status": Status(status).label})
        return status

    @property
    def has_moves(self) -> bool:
        return bool(self.moves)


class DeadlineForm(BuiltOnState):
    """The date the customer needs the issue solved by; empty clears it."""

    prefix = "deadline"
    seen_field = "customer_deadline"

    customer_deadline = forms.DateTimeField(
        label=_("The customer needs this by"), required=False, widget=DATETIME_LOCAL,
        help_text=_("Optional. The owner is warned a working day before it; leave it empty to remove it."))

    def __init__(self, *args, issue: Issue | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if issue is not None and not self.is_bound:
            self.fields["seen"].initial = seen_deadline(issue)
            self.fields["customer_deadline"].initial = issue.customer_deadline

    def now_seen(self, issue: Issue) -> None:
        self.data = self.data.copy()
        self.data[self.add_prefix("seen")] = seen_deadline(issue)


class BulkForm(forms.Form):
    # No default action: the bar does exactly what was chosen, and nothing when nothing was.
    ACTIONS = [("", _("Choose an action")), ("acknowledge", _("Acknowledge")), ("assign", _("Assign to")),
               ("severity", _("Change severity to"))]

    issues = forms.TypedMultipleChoiceField(label=_("Issues"), coerce=int, choices=[],
                                            error_messages={"required": _("Select at least one issue.")})
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS, error_messages={
        "required": _("Choose what to do with the selected issues: acknowledge, assign or change severity.")})
    owner = PersonChoiceField(label=_("Owner"), queryset=None, required=False, empty_label=_("Choose an owner"))
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=[("", _("Choose a severity"))] + list(Severity.choices))

    def __init__(self, *args, people, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people
        # Any id is accepted here; which issues the user may touch is the view's lookup.
        self.fields["issues"].valid_value = lambda value: parse_id(value) is not None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("action") == "assign" and not data.get("owner"):
            self.add_error("owner", _("Choose who should own the selected issues."))
        if data.get("action") == "severity" and not data.get("severity"):
            self.add_error("severity", _("Choose the new severity."))
        return data


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, contact: Contact) -> str:
        return f"{contact.name} ({contact.customer.name})" if self.show_customer else contact.name


class ContactsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, contact: Contact) -> str:
        return f"{contact.name} ({contact.customer.name})" if self.show_customer else contact.name

    def _check_values(self, value) -> QuerySet:
        # A value no row can have (a huge number, text) is an invalid choice, not a database error.
        for each in value:
            if parse_id(each) is None:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                      params={"value": each})
        return super()._check_values(value)


def offer_contacts(fields: list[forms.ModelChoiceField], contacts: list[Contact], *, show_customer: bool) -> None:
    """Fill the contact fields of a page from one read of the contacts (a fixed page count however many
    fields offer them); what is posted is still checked against each field's queryset."""
    for field in fields:
        field.show_customer = show_customer
        empty = [("", field.empty_label)] if getattr(field, "empty_label", None) is not None else []
        field.choices = empty + [(contact.pk, field.label_from_instance(contact)) for contact in contacts]


class RecipientsForm(forms.Form):
    """Who at the customer is copied on the issue (besides its reporter and the contacts who follow all
    the customer's issues)."""

    prefix = "recipients"

    cc = ContactsChoiceField(label=_("Copied contacts"), queryset=None, required=False,
                             widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, issue: Issue, contacts: list[Contact] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cc"].queryset = Contact.objects.filter(customer=issue.customer_id)
        if contacts is not None:
            offer_contacts([self.fields["cc"]], contacts, show_customer=False)
            if not self.is_bound:
                self.initial["cc"] = [contact.pk for contact in contacts if contact.copied]


class NewIssueForm(SentOnce):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None, empty_label=_("Choose a customer"))
    reporter = ContactChoiceField(label=_("Contact"), queryset=None, required=False, empty_label=_("No contact"),
                                  help_text=_("Who at the customer reported it; they receive the issue's emails."))
    cc = ContactsChoiceField(label=_("Copy"), queryset=None, required=False,
                             help_text=_("Other contacts who receive the issue's emails."))
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 6}))
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.BLUE)
    owner = PersonChoiceField(label=_("Owner"), queryset=None, required=False,
                              empty_label=_("The customer's account manager"))

    def __init__(self, *args, customers, people, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["owner"].queryset = people
        customer = self.chosen_customer()
        contacts = Contact.objects.filter(customer__in=customers).select_related("customer")
        if customer is not None:
            contacts = contacts.filter(customer=customer)
            self.fields["owner"].queryset = team_people([customer.team_id])
            self.fields["owner"].initial = customer.account_manager_id
        contacts = contacts.order_by("customer__name", "name")
        self.fields["reporter"].queryset = self.fields["cc"].queryset = contacts
        listed = list(contacts)
        offer_contacts([self.fields["reporter"], self.fields["cc"]], listed, show_customer=customer is None)
        # Who receives every issue of the chosen customer anyway: the form says so.
        self.followers = [contact for contact in listed if contact.follows_all_issues] if customer else []

    def chosen_customer(self):
        """The customer picked so far (posted, or passed in the URL when the customer select changes)."""
        key = self.add_prefix("customer")
        customer_id = parse_id((self.data.get(key) if self.is_bound else None) or self.initial.get("customer"))
        if customer_id is None:
            return None
        return self.fields["customer"].queryset.select_related("account_manager").filter(pk=customer_id).first()

    def clean(self) -> dict:
        data = super().clean()
        customer, reporter = data.get("customer"), data.get("reporter")
        if customer and reporter and reporter.customer_id != customer.pk:
            self.add_error("reporter", _("This contact belongs to another customer."))
        if customer and any(contact.customer_id != customer.pk for contact in data.get("cc") or []):
            self.add_error("cc", _("This contact belongs to another customer."))
        return data
