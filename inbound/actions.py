"""What staff do with a message the pipeline could not place: attach it, accept its sender, or discard it.

Each is one transaction that re-checks, in its UPDATE, that nobody handled the message meanwhile (two
colleagues clicking at once place it once), then acts through the issue services.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbound.models import InboundMessage, Outcome
from issues import conversation
from issues.models import Contact, Customer, Issue
from issues.text import one_line


def attach(*, message: InboundMessage, issue: Issue, by) -> Issue:
    """The message is the customer's answer on this issue; its sender becomes a contact of the customer
    if they are not one yet (staff vouched for them by attaching it)."""
    with transaction.atomic():
        _claim(message, by=by)
        contact = _contact_for(message, issue.customer)
        landed = conversation.receive_customer_message(issue=issue, contact=contact, body=message.text,
                                                       subject=message.subject, at=message.received_at,
                                                       inbound_id=message.pk)
        InboundMessage.objects.filter(pk=message.pk).update(outcome=Outcome.CUSTOMER_MESSAGE, issue=landed,
                                                            contact=contact)
    return landed


def open_as_issue(*, message: InboundMessage, customer: Customer, by) -> Issue:
    """The sender is a (new) contact of this customer and the message a new issue of theirs."""
    with transaction.atomic():
        _claim(message, by=by)
        contact = _contact_for(message, customer)
        issue = conversation.open_issue_from_email(contact=contact, subject=message.subject, body=message.text,
                                                   at=message.received_at, inbound_id=message.pk)
        InboundMessage.objects.filter(pk=message.pk).update(outcome=Outcome.NEW_ISSUE, issue=issue, contact=contact)
    return issue


def discard(*, message: InboundMessage, by) -> None:
    with transaction.atomic():
        _claim(message, by=by)
        InboundMessage.objects.filter(pk=message.pk).update(outcome=Outcome.DISCARDED)


def _claim(message: InboundMessage, *, by) -> None:
    claimed = InboundMessage.objects.waiting_for_staff().filter(pk=message.pk).update(
        handled_at=timezone.now(), handled_by=by)
    if not claimed:
        raise ValidationError(_("Someone has already dealt with this email."))


def _contact_for(message: InboundMessage, customer: Customer) -> Contact:
    if not message.sender:
        raise ValidationError(_("This email has no sender address to answer."))
    contact = Contact.objects.filter(customer=customer, email__iexact=message.sender).first()
    if contact is not None:
        return contact
    if Contact.objects.filter(email__iexact=message.sender).exclude(customer=customer).exists():
        raise ValidationError(_("%(email)s is a contact of another customer.") % {"email": message.sender})
    name = one_line(message.sender_name) or message.sender.split("@")[0]
    return Contact.objects.create(customer=customer, name=name[:200], email=message.sender, language=customer.language)
