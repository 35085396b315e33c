"""An unsubscribe link acts only for the address its email was sent to."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from issues import services
from notifications.delivery import deliver_due
from notifications.links import UNSUBSCRIBE_SALT, unsubscribe_token
from tests.factories import make_issue
from tests.notifications.test_delivery import T0

pytestmark = pytest.mark.django_db


def test_the_link_in_an_email_unsubscribes_with_one_click_until_the_address_changes_hands(
        smtp_server, customer, contact, manager):
    issue = make_issue(customer=customer, at=T0)
    services.acknowledge(issue=issue, by=manager, now=T0 + timedelta(hours=1))
    assert deliver_due(now=T0 + timedelta(hours=2)) == 1
    [email] = smtp_server.mailbox.to("grace@acme.example.com")
    link = urlsplit(str(email["List-Unsubscribe"]).strip().strip("<>")).path
    provider = Client(enforce_csrf_checks=True)  # RFC 8058: the mail provider posts, without a CSRF token

    assert provider.post(link, {"List-Unsubscribe": "One-Click"}).status_code == 200
    contact.refresh_from_db()
    assert not contact.receives_updates

    contact.email, contact.receives_updates = "mallory@acme.example.com", True  # the address was given away
    contact.save()
    refused = provider.post(link, {"List-Unsubscribe": "One-Click"})

    assert refused.status_code == 404 and "This link is not valid" in refused.content.decode()
    contact.refresh_from_db()
    assert contact.receives_updates


def test_an_old_link_does_nothing_once_the_contact_has_another_address(client, contact):
    old = reverse("unsubscribe", kwargs={"token": unsubscribe_token(contact.pk, contact.email)})
    contact.email = "grace.hopper@acme.example.com"
    contact.save()

    assert client.get(old).status_code == 404
    assert client.post(old).status_code == 404
    contact.refresh_from_db()
    assert contact.receives_updates
    fresh = reverse("unsubscribe", kwargs={"token": unsubscribe_token(contact.pk, contact.email)})
    assert client.get(fresh).status_code == 200


def test_a_link_that_names_only_the_contact_is_refused(client, contact):
    """Links signed before they named their address cannot say which inbox they were sent to."""
    token = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(str(contact.pk))

    response = client.post(reverse("unsubscribe", kwargs={"token": token}))

    assert response.status_code == 404 and "This link is not valid" in response.content.decode()
    contact.refresh_from_db()
    assert contact.receives_updates


def test_the_address_is_compared_without_regard_to_case_or_surrounding_spaces(client, contact):
    token = unsubscribe_token(contact.pk, " GRACE@Acme.Example.com ")

    assert client.get(reverse("unsubscribe", kwargs={"token": token})).status_code == 200
