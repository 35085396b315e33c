"""Customer tiers: Hanbit Bank is a Premium customer of the Enterprise Support team, Acme Logistics is not.

Premium promises faster answers than the base policies for red and blue and sets nothing for green, which
keeps the base policy. The team works Monday to Friday 09:00-18:00 in Seoul (the default calendar); the
stories run in the first week of November 2026, which has no Korean holiday.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from issues import services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import (
    Breach,
    BusinessCalendar,
    Clock,
    Customer,
    EventKind,
    Issue,
    IssueEvent,
    SlaPolicy,
    Tier,
)
from issues.scan import scan_sla
from issues.tiers import check_tier_policy
from tests.factories import ContactFactory, CustomerFactory, UserFactory, make_issue
from tests.issues.views_helpers import issues_for

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY_4PM = datetime(2026, 11, 2, 16, tzinfo=SEOUL)
TUESDAY_10AM = datetime(2026, 11, 3, 10, tzinfo=SEOUL)
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


def seoul(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SEOUL)


@pytest.fixture
def office_hours(team):
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    return team


@pytest.fixture
def premium(db):
    tier = Tier.objects.create(name="Premium", position=1)
    SlaPolicy.objects.create(tier=tier, severity="red", acknowledge_within=30 * MINUTE, update_every=12 * HOUR)
    SlaPolicy.objects.create(tier=tier, severity="blue", business_time=True, acknowledge_within=4 * HOUR,
                             update_every=18 * HOUR, fallback_acknowledge_within=12 * HOUR,
                             fallback_update_every=timedelta(days=3))
    return tier


@pytest.fixture
def hanbit(team, manager, premium, office_hours):
    return CustomerFactory(name="Hanbit Bank", code="HANBIT", slug="hanbit", team=team, account_manager=manager,
                           tier=premium)


@pytest.fixture
def acme(customer, office_hours):
    return customer


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


# --- the clocks --------------------------------------------------------------------------------------


def test_a_premium_red_issue_must_be_acknowledged_within_half_an_hour_where_others_get_an_hour(acme, hanbit):
    theirs = make_issue(customer=acme, severity="red", at=MONDAY_4PM, title="Acme's fire")
    premium_fire = make_issue(customer=hanbit, severity="red", at=MONDAY_4PM, title="Hanbit's fire")

    assert premium_fire.ack_due_at == seoul(2, 16, 30)
    assert theirs.ack_due_at == seoul(2, 17)
    assert scan_sla(now=seoul(2, 16, 29)).breaches == 0
    assert scan_sla(now=seoul(2, 16, 31)).breaches == 1
    assert list(Breach.objects.values_list("issue", "clock", "due_at")) == [
        (premium_fire.pk, Clock.ACKNOWLEDGE, seoul(2, 16, 30))]
    assert scan_sla(now=seoul(2, 17, 1)).breaches == 1  # Acme's hour ran out too, half an hour later


def test_a_premium_blue_issue_counts_its_tighter_windows_in_seoul_working_hours(acme, hanbit, manager):
    theirs = make_issue(customer=acme, severity="blue", at=MONDAY_4PM)
    premium_issue = make_issue(customer=hanbit, severity="blue", at=MONDAY_4PM)

    # Four working hours: two on Monday, two from Tuesday 09:00. The base policy's nine: Tuesday 16:00.
    assert premium_issue.ack_due_at == seoul(3, 11)
    assert theirs.ack_due_at == seoul(3, 16)

    for issue in (theirs, premium_issue):
        services.acknowledge(issue=issue, by=manager, now=TUESDAY_10AM)
    # Eighteen working hours: Tuesday 10-18, Wednesday 9-18, Thursday 9-10. The base's 45: next Tuesday.
    assert premium_issue.update_due_at == seoul(5, 10)
    assert theirs.update_due_at == seoul(10, 10)
    assert scan_sla(now=seoul(5, 10, 1)).breaches == 1
    assert Breach.objects.get().issue == premium_issue


def test_a_severity_the_tier_sets_no_policy_for_runs_on_the_base_policy(acme, hanbit):
    theirs = make_issue(customer=acme, severity="green", at=MONDAY_4PM)
    premium_issue = make_issue(customer=hanbit, severity="green", at=MONDAY_4PM)
    orange = make_issue(customer=hanbit, severity="orange", at=MONDAY_4PM)

    assert premium_issue.ack_due_at == theirs.ack_due_at == seoul(3, 16)
    assert orange.ack_due_at == MONDAY_4PM + 4 * HOUR


def test_a_premium_owner_may_promise_the_next_update_no_later_than_the_tiers_window(acme, hanbit, contact, manager):
    premium_issue = make_issue(customer=hanbit, severity="red", at=MONDAY_4PM,
                               reporter=ContactFactory(customer=hanbit, name="박서연"))
    theirs = make_issue(customer=acme, severity="red", at=MONDAY_4PM, reporter=contact)

    with pytest.raises(ValidationError, match="at the latest"):
        services.post_update(issue=premium_issue, body="Looking into it.", public=True, by=manager,
                             promised_update_at=MONDAY_4PM + 13 * HOUR, now=MONDAY_4PM)
    services.post_update(issue=theirs, body="Looking into it.", public=True, by=manager,
                         promised_update_at=MONDAY_4PM + 13 * HOUR, now=MONDAY_4PM)
    assert Issue.objects.get(pk=theirs.pk).update_due_at == MONDAY_4PM + 13 * HOUR


# --- the admin ---------------------------------------------------------------------------------------


def duration(value: timedelta | None) -> str:
    return "" if value is None else f"{value.days} {value.seconds // 3600:02d}:{value.seconds // 60 % 60:02d}:00"


def tier_form(tier: Tier, **changes: dict) -> dict:
    """The tier's change form as the admin would send it back, with `changes` per severity."""
    data = {"name": tier.name, "position": tier.position}
    policies = list(tier.policies.all())
    data |= {"policies-TOTAL_FORMS": len(policies), "policies-INITIAL_FORMS": len(policies),
             "policies-MIN_NUM_FORMS": 0, "policies-MAX_NUM_FORMS": 4}
    for n, policy in enumerate(policies):
        fields = {"id": policy.pk, "tier": tier.pk, "severity": policy.severity, "warn_at": policy.warn_at,
                  "acknowledge_within": duration(policy.acknowledge_within),
                  "update_every": duration(policy.update_every),
                  "fallback_acknowledge_within": duration(policy.fallback_acknowledge_within),
                  "fallback_update_every": duration(policy.fallback_update_every), "escalate_after": ""}
        fields |= {"business_time": "on"} if policy.business_time else {}
        fields |= {"auto_status_email": "on"} if policy.auto_status_email else {}
        fields |= changes.get(policy.severity, {})
        data |= {f"policies-{n}-{name}": value for name, value in fields.items() if value is not None}
    return data


def change_tier(client, tier: Tier, **changes: dict):
    return client.post(reverse("admin:issues_tier_change", args=[tier.pk]), tier_form(tier, **changes))


def test_the_admin_refuses_a_tier_policy_looser_than_the_base_policy(admin_client, premium):
    response = change_tier(admin_client, premium, red={"acknowledge_within": "0 02:00:00"})

    assert response.status_code == 200
    assert "never looser: the base policy says 01:00:00" in response.content.decode()
    assert premium.policies.get(severity="red").acknowledge_within == 30 * MINUTE


def test_the_admin_refuses_a_tier_policy_beyond_the_calendar_ceiling_or_counting_time_another_way(
        admin_client, premium):
    response = change_tier(admin_client, premium, red={"update_every": "2 00:00:00"},
                           blue={"business_time": None})
    html = response.content.decode()

    assert response.status_code == 200
    assert "news at least once a week" not in html  # two days is within the ceiling, but looser than the base
    assert "never looser: the base policy says 1 00:00:00" in html
    assert "counts business time: its tiers must too" in html

    response = change_tier(admin_client, premium, red={"acknowledge_within": "2 00:00:00"})
    assert "within one day at most" in response.content.decode()
    assert premium.policies.get(severity="red").update_every == 12 * HOUR
    assert premium.policies.get(severity="blue").business_time


def test_the_admin_refuses_a_base_policy_tighter_than_a_tiers(admin_client, premium):
    red = SlaPolicy.objects.get(tier=None, severity="red")

    response = admin_client.post(reverse("admin:issues_slapolicy_change", args=[red.pk]), {
        "warn_at": "0.75", "auto_status_email": "on", "acknowledge_within": "0:20:00", "update_every": "1 00:00:00",
        "fallback_acknowledge_within": "", "fallback_update_every": "",
    })

    assert response.status_code == 200
    assert "The Premium tier says 00:30:00 here" in response.content.decode()
    red.refresh_from_db()
    assert red.acknowledge_within == HOUR


def test_the_base_policies_page_lists_only_the_base_policies(admin_client, premium):
    response = admin_client.get(reverse("admin:issues_slapolicy_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 4
    assert admin_client.get(reverse("admin:issues_tier_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:issues_tier_change", args=[premium.pk])).status_code == 200


def test_editing_a_tiers_policy_moves_the_due_times_of_its_customers_open_issues_with_a_timeline_note(
        admin_client, acme, hanbit):
    premium_fire = make_issue(customer=hanbit, severity="red", at=timezone.now())
    theirs = make_issue(customer=acme, severity="red", at=timezone.now())

    response = change_tier(admin_client, hanbit.tier, red={"acknowledge_within": "0 00:15:00"})

    assert response.status_code == 302
    premium_fire.refresh_from_db()
    assert premium_fire.ack_due_at == premium_fire.ack_started_at + 15 * MINUTE
    note = IssueEvent.objects.get(issue=premium_fire, kind=EventKind.CLOCK_RESCHEDULED)
    assert note.actor.username == "root" and note.new_value == Clock.ACKNOWLEDGE
    assert Issue.objects.get(pk=theirs.pk).ack_due_at == theirs.ack_due_at
    assert not IssueEvent.objects.filter(issue=theirs, kind=EventKind.CLOCK_RESCHEDULED).exists()
    messages = [str(m) for m in admin_client.get(reverse("admin:issues_tier_changelist")).context["messages"]]
    assert "The due times of 1 open issue moved." in messages


def test_editing_a_base_policy_leaves_the_issues_of_a_tier_with_its_own_policy_alone(admin_client, acme, hanbit):
    premium_fire = make_issue(customer=hanbit, severity="red", at=timezone.now())
    theirs = make_issue(customer=acme, severity="red", at=timezone.now())
    red = SlaPolicy.objects.get(tier=None, severity="red")

    response = admin_client.post(reverse("admin:issues_slapolicy_change", args=[red.pk]), {
        "warn_at": "0.75", "auto_status_email": "on", "acknowledge_within": "0:45:00", "update_every": "1 00:00:00",
        "fallback_acknowledge_within": "", "fallback_update_every": "",
    })

    assert response.status_code == 302
    assert Issue.objects.get(pk=theirs.pk).ack_due_at == theirs.ack_started_at + 45 * MINUTE
    assert Issue.objects.get(pk=premium_fire.pk).ack_due_at == premium_fire.ack_due_at
    assert IssueEvent.objects.filter(kind=EventKind.CLOCK_RESCHEDULED).values_list("issue", flat=True).get() == theirs.pk


def test_moving_a_customer_to_a_tier_moves_its_open_issues_due_times(admin_client, acme, premium):
    fire = make_issue(customer=acme, severity="red", at=timezone.now())
    data = {"name": acme.name, "slug": acme.slug, "code": acme.code, "team": acme.team_id,
            "account_manager": acme.account_manager_id, "language": acme.language, "tier": premium.pk,
            "calendar": "", "contacts-TOTAL_FORMS": 0, "contacts-INITIAL_FORMS": 0,
            "contacts-MIN_NUM_FORMS": 0, "contacts-MAX_NUM_FORMS": 1000}

    response = admin_client.post(reverse("admin:issues_customer_change", args=[acme.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    fire.refresh_from_db()
    assert fire.ack_due_at == fire.ack_started_at + 30 * MINUTE
    assert IssueEvent.objects.filter(issue=fire, kind=EventKind.CLOCK_RESCHEDULED).count() == 1


def test_deleting_a_tier_puts_its_customers_back_on_the_base_policies(admin_client, hanbit):
    fire = make_issue(customer=hanbit, severity="red", at=timezone.now())

    response = admin_client.post(reverse("admin:issues_tier_delete", args=[hanbit.tier.pk]), {"post": "yes"})

    assert response.status_code == 302
    fire.refresh_from_db()
    assert fire.ack_due_at == fire.ack_started_at + HOUR
    assert IssueEvent.objects.filter(issue=fire, kind=EventKind.CLOCK_RESCHEDULED).count() == 1
    assert not SlaPolicy.objects.exclude(tier=None).exists()


# --- where the tier shows ----------------------------------------------------------------------------


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def titles(response) -> list[str]:
    return sorted(issue.title for issue in response.context["page"].object_list)


def test_the_inbox_filters_by_tier(hana, acme, hanbit):
    make_issue(customer=acme, at=timezone.now(), title="Acme's export")
    make_issue(customer=hanbit, at=timezone.now(), title="Hanbit's transfer")

    everything = hana.get(reverse("inbox"))
    assert titles(everything) == ["Acme's export", "Hanbit's transfer"]
    assert [label for _, label in everything.context["filter_form"].fields["tier"].choices] == [
        "Any", "Premium", "No tier"]
    assert titles(hana.get(reverse("inbox"), {"tier": hanbit.tier_id})) == ["Hanbit's transfer"]
    assert titles(hana.get(reverse("inbox"), {"tier": "base"})) == ["Acme's export"]
    assert titles(hana.get(reverse("inbox"), {"tier": "999"})) == ["Acme's export", "Hanbit's transfer"]


def test_without_tiers_the_inbox_offers_no_tier_filter(hana, acme):
    make_issue(customer=acme, at=timezone.now())

    assert "tier" not in hana.get(reverse("inbox")).context["filter_form"].fields


def test_the_tier_shows_on_the_issue_page_the_customers_pages_and_the_dashboard(client, lead, manager, acme, hanbit):
    issue = make_issue(customer=hanbit, at=timezone.now())
    make_issue(customer=acme, at=timezone.now())
    client.force_login(manager)

    badge = "★ </span>Premium"
    assert badge in client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert client.get(reverse("customer_list")).content.decode().count(badge) == 1
    assert badge in client.get(reverse("customer_detail", args=["hanbit"])).content.decode()
    client.force_login(lead)
    dashboard = client.get(reverse("dashboard"))
    assert {row.name: row.tier for row in dashboard.context["customers"]} == {
        "Hanbit Bank": "Premium", "Acme Logistics": ""}
    assert dashboard.content.decode().count(badge) == 1


def queries(client, url: str, **params) -> int:
    client.get(url, params)  # the first look at the dashboard counts the team's compliance days: count the next
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_tiers_add_no_query_to_the_inbox_the_dashboard_and_the_customer_pages(client, lead, team, acme, premium):
    first = issues_for(acme, 3)[0]
    pages = [(reverse("inbox"), {}), (reverse("dashboard"), {"team": team.pk}), (reverse("customer_list"), {}),
             (reverse("customer_detail", args=["acme"]), {}), (reverse("issue_detail", args=[first.pk]), {})]
    client.force_login(lead)
    before = [queries(client, url, **params) for url, params in pages]

    for n in range(5):
        issues_for(CustomerFactory(team=team, tier=premium), 4)
    acme.tier = premium
    acme.save()
    after = [queries(client, url, **params) for url, params in pages]
    filtered = queries(client, reverse("inbox"), tier=premium.pk)

    assert after == before
    assert filtered == before[0]
    assert len(after) == 5 and all(count > 0 for count in after)


@override_settings(DEBUG=True)
def test_the_demo_puts_hanbit_bank_on_a_premium_tier_the_admin_would_accept():
    call_command("seed_demo", issues=10, stdout=io.StringIO())

    premium = Customer.objects.get(code="HANBIT").tier
    assert premium.name == "Premium"
    policies = list(premium.policies.all())
    assert {policy.severity for policy in policies} == {"red", "orange", "blue"}
    for policy in policies:
        policy.full_clean()
        check_tier_policy(policy, SlaPolicy.objects.get(tier=None, severity=policy.severity))
    assert Customer.objects.filter(tier=premium).count() == 1
