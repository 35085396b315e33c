""""Customer last heard from us" moves only when an email to a reachable contact was queued, and the issue
page says plainly when nobody will receive a public update."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from issues import services
from issues.models import Issue, Status
from issues.scan import scan_sla
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, CustomerFactory, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
NOBODY = ("Nobody will receive this update by email: it will be on the timeline only and the update clock keeps "
          "running. Call Acme Logistics.")
NOBODY_RECEIVED = ("Nobody received this update by email: it is on the timeline only and the update clock keeps "
                   "running. Call Acme Logistics.")

pytestmark = pytest.mark.django_db


def last_heard(issue: Issue) -> datetime | None:
    return Issue.objects.values_list("customer_last_heard_at", flat=True).get(pk=issue.pk)


@pytest.fixture
def muted(customer):
    """The customer's only contact, who follows all its issues but turned status updates off."""
    return ContactFactory(customer=customer, name="Joan Clarke", email="joan@acme.example.com",
                          receives_updates=False, follows_all_issues=True)


def every_way_of_reaching_the_customer(issue: Issue, manager) -> list[datetime | None]:
    """Acknowledge, update and resolve, noting when the customer last heard from us after each."""
    seen = []
    services.acknowledge(issue=issue, by=manager, now=MONDAY + HOUR)
    seen.append(last_heard(issue))
    services.post_update(issue=issue, body="We found the cause.", public=True, by=manager, now=MONDAY + 2 * HOUR)
    seen.append(last_heard(issue))
    services.resolve(issue=issue, by=manager, body="Fixed.", now=MONDAY + 3 * HOUR)
    seen.append(last_heard(issue))
    return seen


def test_a_customer_without_contacts_never_heard_from_us_until_someone_can_hear(customer, manager):
    issue = make_issue(customer=customer, at=MONDAY, owner=manager)

    assert every_way_of_reaching_the_customer(issue, manager) == [None, None, None]
    assert not OutboundEmail.objects.exists()

    ContactFactory(customer=customer, follows_all_issues=True)
    services.reopen(issue=issue, by=manager, now=MONDAY + DAY)
    services.acknowledge(issue=issue, by=manager, now=MONDAY + DAY + HOUR)
    assert last_heard(issue) == MONDAY + DAY + HOUR


def test_a_customer_whose_contacts_muted_updates_hears_only_the_resolution(customer, muted, manager):
    issue = make_issue(customer=customer, at=MONDAY, owner=manager)

    assert every_way_of_reaching_the_customer(issue, manager) == [None, None, MONDAY + 3 * HOUR]
    assert list(OutboundEmail.objects.values_list("kind", flat=True)) == [EmailKind.RESOLVED]


def test_acknowledging_by_starting_work_counts_only_when_someone_is_told(customer, muted, manager):
    issue = make_issue(customer=customer, at=MONDAY, owner=manager)

    services.change_status(issue=issue, status=Status.IN_PROGRESS, by=manager, now=MONDAY + HOUR)

    assert last_heard(issue) is None


def test_an_automatic_status_email_is_news_only_where_a_contact_receives_it(customer, muted, manager):
    unheard = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager)
    services.acknowledge(issue=unheard, by=manager, now=MONDAY + HOUR)
    heard = make_issue(customer=CustomerFactory(team=customer.team), at=MONDAY, severity="red", owner=manager)
    ContactFactory(customer=heard.customer, follows_all_issues=True)
    services.acknowledge(issue=heard, by=manager, now=MONDAY + HOUR)

    assert scan_sla(now=MONDAY + 2 * DAY).auto_emails == 2

    assert last_heard(unheard) is None
    assert last_heard(heard) == MONDAY + 2 * DAY
    assert Issue.objects.get(pk=unheard.pk).auto_emails_sent == 1  # the clock's bookkeeping still moves


# --- the issue page says so -------------------------------------------------------------------------


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def test_the_page_warns_above_the_update_form_and_after_sending_when_nobody_receives_updates(
        hana, customer, muted, manager):
    issue = make_issue(customer=customer, at=MONDAY, owner=manager)

    page = hana.get(issue.get_absolute_url()).content.decode()
    assert NOBODY in page

    response = hana.post(reverse("issue_update", kwargs={"pk": issue.pk}),
                         {"update-body": "We found the cause."}, follow=True)

    assert [str(message) for message in response.context["messages"]] == [NOBODY_RECEIVED]
    assert last_heard(issue) is None

    ContactFactory(customer=customer, follows_all_issues=True)  # someone to write to: no warning any more
    assert "Nobody will receive this update" not in hana.get(issue.get_absolute_url()).content.decode()
    response = hana.post(reverse("issue_update", kwargs={"pk": issue.pk}), {"update-body": "Fixed."}, follow=True)
    assert [str(message) for message in response.context["messages"]] == [
        "Your update is on the timeline and on its way to the customer."]
