"""Who receives an issue's emails: its reporter, the contacts copied on it, and the contacts who follow all
their company's issues. An update none of them receives is recorded, but it is not news."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issues import conversation, services
from issues.models import Breach, Clock, Contact, EventKind, Issue, IssueEvent
from notifications import emails
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, CustomerFactory, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def grace(customer):
    """Reports Acme's issues; follows none but her own."""
    return ContactFactory(customer=customer, name="Grace Hopper", email="grace@acme.example.com")


@pytest.fixture
def minjun(customer):
    return ContactFactory(customer=customer, name="Min-jun Choi", email="minjun@acme.example.com")


@pytest.fixture
def ops(customer):
    """Acme's operations desk: wants to hear about every issue."""
    return ContactFactory(customer=customer, name="Acme Ops", email="ops@acme.example.com", follows_all_issues=True)


@pytest.fixture
def bystander(customer):
    """A contact nobody put on the issue: hears nothing about it."""
    return ContactFactory(customer=customer, name="Ada Lovelace", email="ada@acme.example.com")


def written_to(kind: str) -> set[str]:
    return set(OutboundEmail.objects.filter(kind=kind).values_list("recipient", flat=True))


def last_heard(issue: Issue) -> datetime | None:
    return Issue.objects.values_list("customer_last_heard_at", flat=True).get(pk=issue.pk)


# --- who receives what ------------------------------------------------------------------------------


def test_the_reporter_the_copied_contacts_and_the_followers_hear_and_nobody_else(
        customer, grace, minjun, ops, bystander, manager):
    issue = make_issue(customer=customer, at=MONDAY, reporter=grace, cc=[minjun], owner=manager)

    services.acknowledge(issue=issue, by=manager, now=MONDAY + HOUR)
    services.post_update(issue=issue, body="We found it.", public=True, by=manager, now=MONDAY + 2 * HOUR)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=MONDAY + 3 * HOUR)

    expected = {grace.email, minjun.email, ops.email}
    for kind in (EmailKind.ACKNOWLEDGED, EmailKind.PUBLIC_UPDATE, EmailKind.RESOLVED):
        assert written_to(kind) == expected, kind
    assert not OutboundEmail.objects.filter(recipient=bystander.email).exists()


def test_a_muted_recipient_hears_only_the_resolution_and_an_unreachable_one_nothing(customer, grace, minjun, manager):
    Contact.objects.filter(pk=grace.pk).update(receives_updates=False)
    Contact.objects.filter(pk=minjun.pk).update(undeliverable_at=MONDAY)
    issue = make_issue(customer=customer, at=MONDAY, reporter=grace, cc=[minjun], owner=manager)

    services.acknowledge(issue=issue, by=manager, now=MONDAY + HOUR)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=MONDAY + 2 * HOUR)

    assert written_to(EmailKind.ACKNOWLEDGED) == set()
    assert written_to(EmailKind.RESOLVED) == {grace.email}


def test_the_automatic_emails_of_a_scan_batch_go_to_each_issues_own_recipients_in_one_query(customer, manager):
    people = [ContactFactory(customer=customer) for _ in range(6)]
    follower = ContactFactory(customer=customer, follows_all_issues=True)
    issues = [make_issue(customer=customer, at=MONDAY, reporter=people[n], cc=[people[(n + 1) % 6]], owner=manager)
              for n in range(6)]

    with CaptureQueriesContext(connection) as queries:
        found = emails.update_recipients(issues)

    assert len(queries) == 1
    for n, issue in enumerate(issues):
        assert [contact.pk for contact in found[issue.pk]] == sorted(
            {people[n].pk, people[(n + 1) % 6].pk, follower.pk})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(roles=st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans()),
                      min_size=1, max_size=6),
       reporter_at=st.integers(min_value=-1, max_value=5), include_muted=st.booleans())
def test_whoever_the_contacts_are_an_email_reaches_exactly_the_reachable_recipients(
        customer, manager, roles, reporter_at, include_muted):
    Issue.objects.all().delete()
    Contact.objects.all().delete()
    other = CustomerFactory(team=customer.team)
    contacts, copied = [], []
    for n, (follows, cc, muted, bounced, elsewhere) in enumerate(roles):
        contact = ContactFactory(customer=other if elsewhere else customer, follows_all_issues=follows,
                                 receives_updates=not muted, undeliverable_at=MONDAY if bounced else None)
        contacts.append(contact)
        if cc and not elsewhere:
            copied.append(contact)
    ours = [contact for contact in contacts if contact.customer_id == customer.pk]
    reporter = ours[reporter_at] if 0 <= reporter_at < len(ours) else None
    issue = make_issue(customer=customer, at=MONDAY, reporter=reporter, cc=copied, owner=manager)
    theirs = make_issue(customer=other, at=MONDAY, owner=manager)

    found = emails.update_recipients([issue, theirs], include_muted=include_muted)

    def expected(of: Issue) -> set[int]:
        return {c.pk for c in contacts
                if (c == reporter and of == issue) or (c in copied and of == issue)
                or (c.follows_all_issues and c.customer_id == of.customer_id)
                if c.undeliverable_at is None and (include_muted or c.receives_updates)}

    assert {c.pk for c in found[issue.pk]} == expected(issue)
    assert {c.pk for c in found[theirs.pk]} == expected(theirs)


def test_contacts_existing_before_recipients_per_issue_keep_hearing_about_every_issue(customer):
    before = ContactFactory(customer=customer)
    migration = importlib.import_module("issues.migrations.0008_recipients")

    migration.existing_contacts_follow_all_issues(django_apps, None)
    after = ContactFactory(customer=customer)

    assert Contact.objects.get(pk=before.pk).follows_all_issues
    assert not Contact.objects.get(pk=after.pk).follows_all_issues


def test_a_contact_who_writes_on_an_issue_is_copied_on_it_from_then_on(customer, grace, minjun, manager):
    issue = make_issue(customer=customer, at=MONDAY, reporter=grace, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=MONDAY + HOUR)

    conversation.receive_customer_message(issue=issue, contact=minjun, body="Same here.", subject="Re: it",
                                          at=MONDAY + 2 * HOUR)
    conversation.receive_customer_message(issue=issue, contact=grace, body="Any news?", subject="Re: it",
                                          at=MONDAY + 3 * HOUR)
    services.post_update(issue=issue, body="Fixed for both of you.", public=True, by=manager, now=MONDAY + 4 * HOUR)

    assert list(issue.cc.all()) == [minjun]  # the reporter hears anyway
    assert written_to(EmailKind.PUBLIC_UPDATE) == {grace.email, minjun.email}


def test_only_the_customers_own_contacts_can_be_copied(customer, grace, manager):
    stranger = ContactFactory(customer=CustomerFactory(team=customer.team))
    issue = make_issue(customer=customer, at=MONDAY, reporter=grace, owner=manager)

    with pytest.raises(ValidationError):
        services.change_recipients(issue=issue, cc=[stranger], by=manager)
    with pytest.raises(ValidationError):
        make_issue(customer=customer, at=MONDAY, cc=[stranger])

    assert not issue.cc.exists() and Issue.objects.count() == 1


# --- an update nobody receives is not news -----------------------------------------------------------


def test_an_update_nobody_receives_is_recorded_but_the_breach_stays_and_last_heard_does_not_move(
        customer, grace, bystander, manager):
    Contact.objects.filter(pk=grace.pk).update(receives_updates=False)
    issue = make_issue(customer=customer, at=MONDAY, severity="red", reporter=grace, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=MONDAY + HOUR)
    issue.refresh_from_db()
    cycle, due = issue.update_started_at, issue.update_due_at
    Breach.objects.create(issue=issue, clock=Clock.UPDATE, severity="red", cycle_started_at=cycle, due_at=due,
                          breached_at=due)

    event = services.post_update(issue=issue, body="Still on it.", public=True, by=manager, now=due + HOUR)

    issue.refresh_from_db()
    assert event.kind == EventKind.PUBLIC_UPDATE and event.data["received_by"] == 0
    assert Breach.objects.get(issue=issue).cleared_at is None
    assert (issue.update_started_at, issue.update_due_at) == (cycle, due)
    assert last_heard(issue) is None
    assert not OutboundEmail.objects.filter(kind=EmailKind.PUBLIC_UPDATE).exists()


def test_an_update_nobody_receives_does_not_acknowledge_a_new_issue(customer, manager):
    issue = make_issue(customer=customer, at=MONDAY, owner=manager)

    services.post_update(issue=issue, body="Looking at it.", public=True, by=manager, now=MONDAY + HOUR)

    issue.refresh_from_db()
    assert issue.acknowledged_at is None and issue.ack_due_at is not None
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.PUBLIC_UPDATE).count() == 1


def test_an_update_someone_receives_is_news(customer, grace, manager):
    issue = make_issue(customer=customer, at=MONDAY, reporter=grace, owner=manager)

    event = services.post_update(issue=issue, body="Looking at it.", public=True, by=manager, now=MONDAY + HOUR)

    issue.refresh_from_db()
    assert event.data["received_by"] == 1
    assert issue.acknowledged_at == MONDAY + HOUR and last_heard(issue) == MONDAY + HOUR


# --- the pages say who they are ---------------------------------------------------------------------


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def test_the_issue_page_says_to_whom_an_update_goes(hana, customer, grace, minjun, ops, bystander, manager):
    issue = make_issue(customer=customer, at=MONDAY, reporter=grace, cc=[minjun], owner=manager)

    html = hana.get(issue.get_absolute_url()).content.decode()

    assert "To:</span> Grace Hopper, Min-jun Choi, Acme Ops</p>" in html
    assert "Grace Hopper <span class=\"text-body-secondary\">(reporter)" in html
    assert "Min-jun Choi <span class=\"text-body-secondary\">(copied)" in html
    assert "Acme Ops <span class=\"text-body-secondary\">(follows all issues)" in html
    assert "Ada Lovelace" in html  # offered to be copied, not a recipient
    assert "Nobody will receive this update" not in html


def test_before_and_after_sending_the_page_says_when_nobody_will_receive_an_update(hana, customer, bystander, manager):
    issue = make_issue(customer=customer, at=MONDAY, owner=manager)

    before = hana.get(issue.get_absolute_url()).content.decode()
    response = hana.post(reverse("issue_update", kwargs={"pk": issue.pk}), {"update-body": "We are on it."},
                         follow=True)

    assert "Nobody will receive this update by email" in before and "To:</span>" not in before
    [message] = [str(message) for message in response.context["messages"]]
    assert message.startswith("Nobody received this update by email") and "Call Acme Logistics." in message
    assert "Nobody received this update by email: it is not news to the customer. Call them." in (
        response.content.decode())


def test_copying_a_contact_on_the_issue_page_makes_them_a_recipient(hana, customer, grace, bystander, manager):
    issue = make_issue(customer=customer, at=MONDAY, reporter=grace, owner=manager)

    response = hana.post(reverse("issue_recipients", kwargs={"pk": issue.pk}), {"recipients-cc": [bystander.pk]},
                         follow=True)

    assert list(issue.cc.all()) == [bystander]
    assert "To:</span> Grace Hopper, Ada Lovelace</p>" in response.content.decode()
    hana.post(reverse("issue_recipients", kwargs={"pk": issue.pk}), {})
    assert not issue.cc.exists()


def test_another_customers_contact_cannot_be_copied_from_the_page(hana, customer, grace, manager):
    stranger = ContactFactory(customer=CustomerFactory(team=customer.team))
    issue = make_issue(customer=customer, at=MONDAY, reporter=grace, owner=manager)

    response = hana.post(reverse("issue_recipients", kwargs={"pk": issue.pk}), {"recipients-cc": [stranger.pk]})

    assert response.status_code == 400 and not issue.cc.exists()


def test_the_new_issue_form_copies_contacts_and_names_the_followers(hana, customer, grace, minjun, ops):
    page = hana.get(reverse("issue_new"), {"customer": customer.pk}).content.decode()
    assert "Also receive every issue's emails: Acme Ops" in page

    hana.post(reverse("issue_new"), {"customer": customer.pk, "reporter": grace.pk, "cc": [minjun.pk],
                                     "title": "Invoices are late", "severity": "blue"})

    issue = Issue.objects.get()
    assert issue.reporter == grace and list(issue.cc.all()) == [minjun]


@pytest.mark.parametrize("count", [3, 120])
def test_the_issue_page_runs_a_fixed_number_of_queries_however_many_contacts(
        hana, customer, grace, manager, count, django_assert_max_num_queries):
    contacts = [ContactFactory(customer=customer, follows_all_issues=n % 2 == 0) for n in range(count)]
    issue = make_issue(customer=customer, at=MONDAY, reporter=grace, cc=contacts[:count // 3], owner=manager)

    with django_assert_max_num_queries(7):
        assert hana.get(issue.get_absolute_url()).status_code == 200


def test_the_customers_page_shows_the_quietest_open_issues_silence(hana, customer, grace, manager):
    quiet = make_issue(customer=customer, at=MONDAY - 5 * DAY, reporter=grace, owner=manager)
    services.acknowledge(issue=quiet, by=manager, now=MONDAY - 4 * DAY)
    recent = make_issue(customer=customer, at=MONDAY - DAY, reporter=grace, owner=manager)
    services.acknowledge(issue=recent, by=manager, now=MONDAY)

    rows = {row.name: row for row in hana.get(reverse("customer_list")).context["customers"]}

    assert rows["Acme Logistics"].last_heard_at == MONDAY - 4 * DAY
