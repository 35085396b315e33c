"""Only people who may open an issue hear about it, and when the person in charge is gone someone still does.

The rule: an active user who leads the customer's team or is one of its members. Whoever left the team,
was deactivated, manages another team's customers or owned a customer that moved to another team hears
nothing more about its issues; their part goes to the lead, and without a lead to the account manager or,
failing that, to every active member of the team.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issues import services
from issues.models import EventKind, Issue, Profile, Team
from issues.scan import scan_sla
from notifications.compose import rendered
from notifications.digests import send_digests
from notifications.models import EmailKind, OutboundEmail
from tests.factories import CustomerFactory, TeamFactory, UserFactory, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
AT_RISK = MONDAY + 50 * MINUTE  # a red issue opened on Monday 09:00 is at risk from 09:45
BREACHED = MONDAY + 2 * HOUR  # ... and breached from 10:00

pytestmark = pytest.mark.django_db


def told(kind: str) -> list[str]:
    return list(OutboundEmail.objects.filter(kind=kind).order_by("recipient").values_list("recipient", flat=True))


def leave(team: Team, user) -> None:
    team.members.remove(user)


def deactivate(user) -> None:
    user.is_active = False
    user.save()


# --- someone who may no longer open the issue hears nothing; the lead steps in ----------------------


@pytest.mark.parametrize("gone", [leave, lambda team, user: deactivate(user)], ids=["left the team", "deactivated"])
def test_an_owner_who_is_gone_hears_nothing_and_the_lead_is_reminded_and_told_of_the_breach_once(
        team, customer, manager, lead, gone):
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager, by=lead)
    gone(team, manager)

    scan_sla(now=AT_RISK)
    scan_sla(now=BREACHED)

    assert told(EmailKind.AT_RISK) == [lead.email]
    assert told(EmailKind.BREACH) == [lead.email]  # as the one who must act now, not twice
    reminder, = [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.AT_RISK)]
    assert "Its owner, Hana Lee, can no longer open it; as the team lead you are told instead." in reminder.body_text
    breach, = [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.BREACH)]
    assert f"/issues/{issue.pk}/?compose=update" in breach.body_text


def test_an_unowned_issues_account_manager_who_moved_to_another_team_hears_nothing_the_lead_does(
        team, customer, manager, lead):
    make_issue(customer=customer, at=MONDAY, severity="red", by=lead)
    leave(team, manager)
    TeamFactory(name="Retail").members.add(manager)

    scan_sla(now=AT_RISK)

    assert told(EmailKind.AT_RISK) == [lead.email]
    reminder, = [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.AT_RISK)]
    assert "has no owner and its account manager cannot take it" in reminder.body_text


def test_an_account_manager_of_another_team_is_never_told(team, lead, outsider):
    customer = CustomerFactory(team=team, account_manager=outsider)  # a stale admin entry
    make_issue(customer=customer, at=MONDAY, severity="red", by=lead)

    scan_sla(now=AT_RISK)
    scan_sla(now=BREACHED)

    assert outsider.email not in told(EmailKind.AT_RISK) + told(EmailKind.BREACH)
    assert told(EmailKind.AT_RISK) == [lead.email]


def test_the_old_team_of_a_customer_that_moved_hears_nothing_more(team, customer, manager, lead, colleague):
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=colleague, by=lead)
    OutboundEmail.objects.all().delete()  # told while the customer was still theirs
    new_lead = UserFactory(username="minji", first_name="Minji", last_name="Park")
    customer.team = TeamFactory(name="Key accounts", lead=new_lead)
    customer.save()

    scan_sla(now=BREACHED)
    services.change_severity(issue=issue, severity="orange", by=new_lead, now=BREACHED + MINUTE)
    services.change_severity(issue=issue, severity="red", by=new_lead, now=BREACHED + 2 * MINUTE)

    assert told(EmailKind.BREACH) == [new_lead.email]
    assert not OutboundEmail.objects.filter(recipient__in=[lead.email, manager.email, colleague.email]).exists()


def test_a_reopened_issue_whose_owner_left_goes_to_the_lead(team, customer, manager, lead, colleague):
    issue = make_issue(customer=customer, at=MONDAY, owner=manager)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=MONDAY + HOUR)
    leave(team, manager)

    services.reopen(issue=issue, by=colleague, now=MONDAY + DAY)

    assert told(EmailKind.REOPENED) == [lead.email]
    email, = [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.REOPENED)]
    assert "can no longer open it" in email.body_text


# --- a team without a lead ------------------------------------------------------------------------


@pytest.fixture
def leaderless(manager, colleague):
    team = TeamFactory(name="Night shift", lead=None)
    team.members.add(manager, colleague)
    return team


def test_without_a_lead_a_red_issue_reaches_the_account_manager(leaderless, manager, colleague):
    customer = CustomerFactory(team=leaderless, account_manager=manager)

    make_issue(customer=customer, at=MONDAY, severity="red", by=colleague)

    assert told(EmailKind.RED_ISSUE) == [manager.email]
    email = rendered(OutboundEmail.objects.get(kind=EmailKind.RED_ISSUE))
    assert "The team has no lead; as the customer's account manager you are told in the lead's place." in (
        email.body_text)


def test_without_a_lead_or_account_manager_a_red_issue_and_its_breach_reach_every_active_member(
        leaderless, manager, colleague):
    customer = CustomerFactory(team=leaderless, account_manager=None)
    retired = UserFactory(username="retired")
    leaderless.members.add(retired)
    deactivate(retired)
    third = UserFactory(username="sora")
    leaderless.members.add(third)

    make_issue(customer=customer, at=MONDAY, severity="red", by=colleague)
    scan_sla(now=BREACHED)

    assert told(EmailKind.RED_ISSUE) == sorted([manager.email, third.email])  # not who raised it
    assert told(EmailKind.BREACH) == sorted([colleague.email, manager.email, third.email])
    assert retired.email not in told(EmailKind.BREACH)


def test_without_a_lead_a_breach_tells_the_owner_and_the_account_manager(leaderless, manager, colleague):
    customer = CustomerFactory(team=leaderless, account_manager=manager)
    make_issue(customer=customer, at=MONDAY, severity="red", owner=colleague, by=colleague)

    scan_sla(now=BREACHED)

    assert told(EmailKind.BREACH) == sorted([colleague.email, manager.email])


# --- a deactivated account manager does not block opening issues ------------------------------------


def test_a_new_issue_for_a_customer_whose_account_manager_was_deactivated_opens_unowned_and_the_lead_is_told(
        client, customer, manager, colleague, lead):
    deactivate(manager)
    client.force_login(colleague)

    response = client.post(reverse("issue_new"), {"customer": customer.pk, "title": "Labels print blank",
                                                  "severity": "blue", "owner": ""}, follow=True)

    issue = Issue.objects.get()
    assert issue.owner is None
    assert "Nobody owns it yet" in response.content.decode()
    assert told(EmailKind.ASSIGNED) == [lead.email]
    email = rendered(OutboundEmail.objects.get(kind=EmailKind.ASSIGNED))
    assert email.subject == f"[ACME-{issue.pk}] Needs an owner: Labels print blank"
    assert "its account manager cannot take it" in email.body_text
    assert issue.events.get(kind=EventKind.EMAIL_QUEUED).data["recipients"] == [lead.email]


def test_the_new_issue_needing_an_owner_speaks_korean_to_a_korean_lead(customer, manager, colleague, lead):
    Profile.objects.create(user=lead, language="ko")
    deactivate(manager)

    make_issue(customer=customer, at=MONDAY, by=colleague, owner=None)

    email = rendered(OutboundEmail.objects.get(kind=EmailKind.ASSIGNED))
    assert "담당자 지정 필요" in email.subject
    assert "담당 매니저가 맡을 수 없어" in email.body_text


# --- the timeline names who was told ---------------------------------------------------------------


def test_the_scans_reminders_and_breach_notices_are_noted_on_the_timeline_with_their_recipients(
        customer, manager, lead):
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager, by=lead)

    scan_sla(now=AT_RISK)
    scan_sla(now=BREACHED)

    told = {event.kind: event.data["emails"]
            for event in issue.events.filter(kind__in=[EventKind.CLOCK_WARNED, EventKind.CLOCK_BREACHED])}
    assert told == {EventKind.CLOCK_WARNED: {EmailKind.AT_RISK: [manager.email]},
                    EventKind.CLOCK_BREACHED: {EmailKind.BREACH: [manager.email, lead.email]}}


# --- the digest -----------------------------------------------------------------------------------


def test_someone_who_left_the_team_gets_no_digest_of_its_issues(team, customer, manager, lead):
    make_issue(customer=customer, at=MONDAY - DAY, severity="red", owner=manager, title="Checkout down")
    leave(team, manager)

    send_digests(now=MONDAY + 5 * MINUTE)

    assert told(EmailKind.DIGEST) == [lead.email]


# --- one rule, a fixed number of queries -----------------------------------------------------------


def scan_queries(count: int) -> tuple[int, set[str]]:
    """Queries of one breach scan over `count` issues spread over teams in every situation, and the
    addresses of the people who left their team before it."""
    gone = set()
    for n in range(count):
        situation = n % 4
        member = UserFactory()
        team = TeamFactory(lead=None if situation == 3 else UserFactory())
        team.members.add(member, UserFactory())
        customer = CustomerFactory(team=team, account_manager=member if situation != 2 else None)
        make_issue(customer=customer, at=MONDAY, severity="red", owner=member if situation in (0, 1) else None,
                   by=member)
        if situation == 1:
            leave(team, member)
            gone.add(member.email)
    scan_sla(now=MONDAY)  # nothing due yet: the scan's own first-run bookkeeping is out of the count
    with CaptureQueriesContext(connection) as queries:
        assert scan_sla(now=BREACHED).breaches == count
    return len(queries), gone


def test_telling_many_issues_apart_takes_as_many_queries_as_telling_a_few():
    few, _ = scan_queries(4)
    OutboundEmail.objects.all().delete()
    # On SQLite, kept under its 999 parameters per statement, past which Django splits a bulk insert.
    count = 120 if connection.vendor == "postgresql" else 24
    many, gone = scan_queries(count)

    breach_notices = OutboundEmail.objects.filter(kind=EmailKind.BREACH)
    assert breach_notices.count() >= count
    assert not breach_notices.filter(recipient__in=gone).exists()
    assert many == few


# --- whatever the team looks like, every staff email goes to someone who may open the issue -----------


PERSON = st.sampled_from(["member", "left", "deactivated", "outsider", "none"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(owner=PERSON, manager=PERSON, lead=PERSON, others=st.integers(min_value=0, max_value=2),
       severity=st.sampled_from(["red", "orange"]))
def test_every_staff_email_goes_to_someone_who_may_open_the_issue_and_a_breach_always_reaches_someone(
        db, owner, manager, lead, others, severity):
    OutboundEmail.objects.all().delete()
    team, elsewhere = TeamFactory(lead=None), TeamFactory(lead=None)
    members = [UserFactory() for _ in range(others)]
    team.members.add(*members)

    def person(state: str):
        if state == "none":
            return None
        user = UserFactory()
        (elsewhere if state == "outsider" else team).members.add(user)
        return user

    people = {"owner": person(owner), "manager": person(manager), "lead": person(lead)}
    team.lead = people["lead"]
    team.save()
    customer = CustomerFactory(team=team, account_manager=people["manager"])
    actor = members[0] if members else UserFactory()
    issue = make_issue(customer=customer, at=MONDAY, severity=severity, by=actor,
                       owner=people["owner"] if owner == "member" else None)
    for role, state in (("owner", owner), ("manager", manager), ("lead", lead)):
        if state == "left":
            team.members.remove(people[role])
        elif state == "deactivated":
            deactivate(people[role])
    if owner in {"left", "deactivated", "outsider"}:
        # Owned while they were still here (or before the customer moved to this team).
        Issue.objects.filter(pk=issue.pk).update(owner=people["owner"])
    OutboundEmail.objects.all().delete()  # what they were told while they were still here

    scan_sla(now=MONDAY + 50 * MINUTE)
    scan_sla(now=MONDAY + 5 * HOUR)
    services.change_severity(issue=Issue.objects.get(pk=issue.pk), severity="blue", by=actor, now=MONDAY + 6 * HOUR)
    services.change_severity(issue=Issue.objects.get(pk=issue.pk), severity="red", by=actor, now=MONDAY + 7 * HOUR)

    may_open = {user.email for user in team.members.filter(is_active=True)}
    if team.lead is not None and team.lead.is_active:
        may_open.add(team.lead.email)
    rows = OutboundEmail.objects.filter(contact__isnull=True)
    assert set(rows.values_list("recipient", flat=True)) <= may_open
    assert rows.filter(kind=EmailKind.BREACH).exists() == bool(may_open)
