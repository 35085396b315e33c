"""The customer's deadline: "we need this by Monday".

Acme tells Hana they need the invoice export fixed by Monday 10:00. The team works Monday to Friday, 09:00-18:00
in Seoul: Hana hears on Friday 10:00, one working day before, once; the inbox ranks the issue with the at-risk
ones when the deadline is a day away; the lead's dashboard lists it; and Acme's emails say "you told us".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from issues import services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import BusinessCalendar, ClosedDay, EventKind, Issue
from issues.scan import scan_sla
from issues.templatetags.inloop import event_summary
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, UserFactory, make_issue
from tests.issues.views_helpers import ago

SEOUL = ZoneInfo("Asia/Seoul")
MINUTE = timedelta(minutes=1)
THURSDAY = datetime(2026, 11, 12, 10, 0, tzinfo=SEOUL)
FRIDAY_TEN = datetime(2026, 11, 13, 10, 0, tzinfo=SEOUL)
MONDAY_TEN = datetime(2026, 11, 16, 10, 0, tzinfo=SEOUL)

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_hours(team):
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    return team.calendar


@pytest.fixture
def issue(office_hours, customer, manager):
    return make_issue(customer=customer, at=THURSDAY - timedelta(hours=1), owner=manager)


def warnings_to(user) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=EmailKind.DEADLINE_AT_RISK, recipient=user.email))


def test_the_owner_is_warned_one_working_day_before_a_monday_deadline_on_friday_and_only_once(issue, manager):
    services.set_deadline(issue=issue, deadline=MONDAY_TEN, by=manager, now=THURSDAY)
    issue.refresh_from_db()
    assert issue.deadline_warn_at == FRIDAY_TEN  # nine working hours before, the weekend skipped

    assert scan_sla(now=FRIDAY_TEN - MINUTE).deadline_warnings == 0
    assert scan_sla(now=FRIDAY_TEN + MINUTE).deadline_warnings == 1
    assert scan_sla(now=FRIDAY_TEN + 2 * MINUTE).deadline_warnings == 0
    assert scan_sla(now=MONDAY_TEN + MINUTE).deadline_warnings == 0

    [warning] = warnings_to(manager)
    assert warning.dedupe_key == f"deadline:{issue.pk}:{MONDAY_TEN.astimezone(UTC).isoformat()}:{manager.pk}"
    text = rendered(warning).body_text
    assert "told us they need" in text and "Mon 16 Nov 2026, 10:00 (KST)" in text
    event = issue.events.get(kind=EventKind.DEADLINE_WARNED)
    with translation.override("en"):
        assert event_summary(event) == ("The customer needs this by Mon 2026-11-16 10:00, a working day away or "
                                        "less: the owner was told")


def test_without_a_calendar_the_warning_comes_a_calendar_day_before(customer, manager):
    issue = make_issue(customer=customer, at=THURSDAY, owner=manager)
    services.set_deadline(issue=issue, deadline=MONDAY_TEN, by=manager, now=THURSDAY)

    issue.refresh_from_db()
    assert issue.deadline_warn_at == MONDAY_TEN - timedelta(days=1)


def test_a_deadline_closer_than_a_working_day_warns_at_the_next_scan(issue, manager):
    services.set_deadline(issue=issue, deadline=FRIDAY_TEN, by=manager, now=THURSDAY + timedelta(hours=2))

    assert scan_sla(now=THURSDAY + timedelta(hours=2, minutes=5)).deadline_warnings == 1
    assert len(warnings_to(manager)) == 1


def test_a_new_deadline_warns_again_and_clearing_it_warns_nobody(issue, manager):
    services.set_deadline(issue=issue, deadline=MONDAY_TEN, by=manager, now=THURSDAY)
    scan_sla(now=FRIDAY_TEN + MINUTE)
    later = MONDAY_TEN + timedelta(days=7)
    services.set_deadline(issue=issue, deadline=later, by=manager, now=FRIDAY_TEN + 2 * MINUTE)
    services.set_deadline(issue=issue, deadline=None, by=manager, now=FRIDAY_TEN + 3 * MINUTE)

    assert scan_sla(now=later).deadline_warnings == 0
    assert len(warnings_to(manager)) == 1
    issue.refresh_from_db()
    assert issue.customer_deadline is None and issue.deadline_warn_at is None
    lines = [event.new_value for event in issue.events.filter(kind=EventKind.DEADLINE_SET).order_by("at")]
    assert len(lines) == 3 and lines[-1] == ""


def test_the_deadline_change_is_on_the_timeline_with_old_and_new(issue, manager):
    services.set_deadline(issue=issue, deadline=MONDAY_TEN, by=manager, now=THURSDAY)
    services.set_deadline(issue=issue, deadline=None, by=manager, now=THURSDAY + MINUTE)

    noted, removed = issue.events.filter(kind=EventKind.DEADLINE_SET).order_by("at")
    assert noted.old_value == "" and noted.new_value == MONDAY_TEN.astimezone(UTC).isoformat()
    assert removed.old_value == noted.new_value
    with translation.override("en"), timezone.override(SEOUL):
        assert event_summary(noted) == "Hana Lee noted that the customer needs this by Mon 2026-11-16 10:00"
        assert event_summary(removed) == "Hana Lee removed the customer's deadline"


def test_a_deadline_in_the_past_or_on_a_resolved_issue_is_refused(issue, manager):
    with pytest.raises(ValidationError, match="must be in the future"):
        services.set_deadline(issue=issue, deadline=THURSDAY - MINUTE, by=manager, now=THURSDAY)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=THURSDAY)
    with pytest.raises(ValidationError):
        services.set_deadline(issue=issue, deadline=MONDAY_TEN, by=manager, now=THURSDAY + MINUTE)

    assert not issue.events.filter(kind=EventKind.DEADLINE_SET).exists()


def test_a_form_built_before_a_colleagues_change_does_not_overwrite_it(issue, manager, colleague):
    page_showed = ""  # no deadline when Daniel loaded the page
    services.set_deadline(issue=issue, deadline=MONDAY_TEN, by=manager, now=THURSDAY)

    with pytest.raises(ValidationError, match="Hana Lee set the customer's deadline"):
        services.set_deadline(issue=issue, deadline=MONDAY_TEN + timedelta(days=1), by=colleague,
                              now=THURSDAY + MINUTE, seen=page_showed)
    issue.refresh_from_db()
    assert issue.customer_deadline == MONDAY_TEN


def test_an_issue_resolved_before_its_warning_is_not_warned_and_a_reopen_brings_it_back(issue, manager):
    services.set_deadline(issue=issue, deadline=MONDAY_TEN, by=manager, now=THURSDAY)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=THURSDAY + MINUTE)

    assert scan_sla(now=FRIDAY_TEN + MINUTE).deadline_warnings == 0
    issue.refresh_from_db()
    assert issue.deadline_warn_at is None  # gone from the scan's index
    services.reopen(issue=issue, by=manager, now=FRIDAY_TEN + 2 * MINUTE)
    assert scan_sla(now=FRIDAY_TEN + 3 * MINUTE).deadline_warnings == 1
    assert len(warnings_to(manager)) == 1


def test_a_deadline_within_a_day_ranks_the_issue_with_the_at_risk_ones_and_shows_in_its_row(
        client, customer, manager):
    client.force_login(manager)
    make_issue(customer=customer, at=ago(minutes=10), severity="red", title="Quiet red")
    needed = make_issue(customer=customer, at=ago(minutes=5), severity="green", title="Needed tomorrow")
    make_issue(customer=customer, at=ago(minutes=5), severity="green", title="Needed next month")
    services.set_deadline(issue=needed, deadline=timezone.now() + timedelta(hours=20), by=manager)
    later = Issue.objects.get(title="Needed next month")
    services.set_deadline(issue=later, deadline=timezone.now() + timedelta(days=30), by=manager)

    response = client.get(reverse("inbox"))

    titles = [issue.title for issue in response.context["page"].object_list]
    assert titles == ["Quiet red", "Needed tomorrow", "Needed next month"]  # red within the hour comes first
    html = response.content.decode()
    assert html.count("customer needs it by") == 2
    assert "clock-at_risk" in html.split("Needed tomorrow")[1].split("</tr>")[0]


def test_the_customer_is_reminded_of_their_deadline_in_english_and_korean(issue, manager, customer):
    ContactFactory(customer=customer, name="Grace Hopper", email="grace@acme.example.com", language="en",
                   follows_all_issues=True)
    ContactFactory(customer=customer, name="김민지", email="minji@acme.example.com", language="ko",
                   follows_all_issues=True)
    services.set_deadline(issue=issue, deadline=MONDAY_TEN, by=manager, now=THURSDAY)

    services.post_update(issue=issue, body="We found the slow query.", public=True, by=manager,
                         now=THURSDAY + MINUTE)

    emails = {row.language: rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.PUBLIC_UPDATE)}
    assert "You told us you need this by Mon 16 Nov 2026, 10:00 (KST)." in emails["en"].body_text
    assert "You told us you need this by <strong>Mon 16 Nov 2026, 10:00 (KST)</strong>." in emails["en"].body_html
    assert "2026년 11월 16일 (월요일) 10:00 (KST)까지 필요하다고 말씀해 주셨습니다." in emails["ko"].body_text


def test_an_email_says_nothing_of_a_deadline_the_customer_never_gave(issue, manager, customer):
    ContactFactory(customer=customer, email="grace@acme.example.com", follows_all_issues=True)

    services.acknowledge(issue=issue, by=manager, now=THURSDAY)

    [email] = OutboundEmail.objects.filter(kind=EmailKind.ACKNOWLEDGED)
    assert "need this by" not in rendered(email).body_text


def test_the_issue_page_notes_the_deadline_without_javascript(client, issue, manager):
    client.force_login(manager)
    page = client.get(issue.get_absolute_url()).content.decode()
    assert "The customer needs this by" in page

    wanted = timezone.localtime(timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    response = client.post(reverse("issue_deadline", args=[issue.pk]),
                           {"deadline-customer_deadline": wanted.strftime("%Y-%m-%dT%H:%M"), "deadline-seen": ""})

    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.customer_deadline == wanted
    assert "customer needs it by" in client.get(issue.get_absolute_url()).content.decode()


def test_the_issue_page_refuses_a_stale_deadline_form_and_shows_the_current_one(client, issue, manager, colleague):
    client.force_login(colleague)
    services.set_deadline(issue=issue, deadline=timezone.now() + timedelta(days=2), by=manager)

    response = client.post(reverse("issue_deadline", args=[issue.pk]),
                           {"deadline-customer_deadline": "", "deadline-seen": ""})

    assert response.status_code == 400
    assert "after this page was loaded" in response.content.decode()
    issue.refresh_from_db()
    assert issue.customer_deadline is not None


def test_the_dashboard_lists_issues_at_risk_of_missing_the_customers_deadline(client, customer, manager, lead):
    client.force_login(lead)
    near = make_issue(customer=customer, at=ago(hours=2), title="Needed tomorrow morning", owner=manager)
    far = make_issue(customer=customer, at=ago(hours=2), title="Needed in a month", owner=manager)
    services.set_deadline(issue=near, deadline=timezone.now() + timedelta(hours=6), by=manager)
    services.set_deadline(issue=far, deadline=timezone.now() + timedelta(days=30), by=manager)

    response = client.get(reverse("dashboard"))

    assert [issue.title for issue in response.context["deadline_risks"]] == ["Needed tomorrow morning"]
    section = response.content.decode().split('id="deadlines-title"')[1].split("</section>")[0]
    assert "Needed tomorrow morning" in section and "Hana Lee" in section and "Needed in a month" not in section


def test_the_dashboard_and_inbox_with_deadlines_run_the_same_number_of_queries_for_few_or_many(
        client, customer, manager, lead):
    client.force_login(lead)

    def queries(url: str) -> int:
        client.get(url)  # the first look counts the team's compliance days from its timeline: count the next
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    counted = []
    for batch in (2, 30):
        for n in range(batch):
            issue = make_issue(customer=customer, at=ago(hours=2), title=f"Issue {batch}-{n}", owner=manager)
            services.set_deadline(issue=issue, deadline=timezone.now() + timedelta(hours=n + 1), by=manager)
        counted.append((queries(reverse("dashboard")), queries(reverse("inbox"))))

    assert len(counted[1]) == 2 and counted[0] == counted[1]


def test_a_company_holiday_added_to_the_teams_calendar_brings_the_deadline_warning_forward(
        issue, manager, office_hours):
    """Hana's Monday deadline is warned about on Friday 10:00. The team then closes the office on that Friday:
    when the admin saves the calendar, the warning moves to Thursday 10:00, one working day before Monday
    10:00 on the calendar as it now is, not into the closed day."""
    services.set_deadline(issue=issue, deadline=MONDAY_TEN, by=manager, now=THURSDAY - 30 * MINUTE)
    issue.refresh_from_db()
    assert issue.deadline_warn_at == FRIDAY_TEN

    ClosedDay.objects.create(calendar=office_hours, date=FRIDAY_TEN.date(), name="Office move")
    services.recompute_open_clocks(issues=Issue.objects.filter(pk=issue.pk), by=manager, now=THURSDAY - 20 * MINUTE)

    issue.refresh_from_db()
    assert issue.deadline_warn_at == THURSDAY
    assert scan_sla(now=THURSDAY + MINUTE).deadline_warnings == 1


def test_moving_the_team_to_other_hours_moves_the_deadline_warning_of_a_customer_with_its_own_calendar(
        client, issue, manager, customer, team, office_hours):
    """Acme's clocks run on Acme's own calendar, but Hana works her team's hours: when the admin moves the team
    to a calendar closed on the Friday before Acme's Monday deadline, the warning moves to Thursday. (The dates
    are in the weeks ahead, as the admin's recompute runs now.)"""
    def hours_like_the_office(name: str) -> BusinessCalendar:
        return BusinessCalendar.objects.create(  # no public holidays: the story's days are working days
            name=name, time_zone="Asia/Seoul", holiday_country="",
            **{f"{day}_{edge}": getattr(office_hours, f"{day}_{edge}")
               for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for edge in ("opens", "closes")})

    today = timezone.now().astimezone(SEOUL)
    monday = (today + timedelta(days=14 - today.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)
    friday, thursday = monday - timedelta(days=3), monday - timedelta(days=4)
    team.calendar = hours_like_the_office("Team hours")
    team.save()
    customer.calendar = hours_like_the_office("Acme's own hours")
    customer.save()
    services.set_deadline(issue=issue, deadline=monday, by=manager)
    issue.refresh_from_db()
    assert issue.deadline_warn_at == friday
    moved = hours_like_the_office("Office move week")
    ClosedDay.objects.create(calendar=moved, date=friday.date(), name="Office move")
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    response = client.post(reverse("admin:issues_team_change", args=[team.pk]), {
        "name": team.name, "lead": team.lead_id or "", "members": list(team.members.values_list("pk", flat=True)),
        "calendar": moved.pk, "email": team.email, "default_severity": team.default_severity,
        "escalation_contact": ""})

    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.deadline_warn_at == thursday
