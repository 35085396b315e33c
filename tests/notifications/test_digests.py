"""The daily digest: at the start of each person's working day, once, never empty, in their language."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse

from issues import services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import BusinessCalendar, Profile
from notifications.compose import rendered
from notifications.digests import send_digests
from notifications.models import EmailKind, OutboundEmail
from notifications.tasks import send_digests_task
from tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory, make_issue, wait_on_customer

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)  # opening time of a working Monday
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

pytestmark = pytest.mark.django_db


def digests() -> list[OutboundEmail]:
    return [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.DIGEST).order_by("recipient")]


def digest_to(user) -> OutboundEmail:
    (row,) = [row for row in digests() if row.recipient == user.email]
    return row


@pytest.fixture
def office_hours(team):
    """The team works Mon-Fri 09:00-18:00 in Seoul."""
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    return team


@pytest.fixture
def weekend(office_hours, customer, manager, colleague):
    """What the weekend left behind, as seen on Monday morning."""
    fire = make_issue(customer=customer, at=MONDAY - 13 * HOUR, severity="red", owner=manager, title="Checkout down")
    waiting = make_issue(customer=customer, at=MONDAY - 2 * DAY, severity="orange", owner=manager, title="Labels")
    services.acknowledge(issue=waiting, by=manager, now=MONDAY - 2 * DAY + HOUR)  # update due 10:00 today
    soon = make_issue(customer=customer, at=MONDAY - HOUR, severity="orange", owner=colleague, title="Tracking")
    return {"fire": fire, "waiting": waiting, "soon": soon}


def test_the_lead_hears_at_opening_time_what_is_breached_at_risk_and_due_today(weekend, lead, manager):
    assert send_digests(now=MONDAY + 5 * MINUTE) == 3  # the lead, and the two owners

    row = digest_to(lead)
    assert row.dedupe_key == f"digest:{lead.pk}:2026-11-02"
    assert row.subject == "Inloop digest, Mon 2 Nov: 1 breached, 2 due within 24 h"
    text = row.body_text
    assert "Good morning Jisoo Kim," in text
    assert "== Enterprise Support: 1 breached, 2 due within 24 hours (1 update due today)" in text
    assert f"ACME-{weekend['fire'].pk} Checkout down (Acme Logistics, Hana Lee)" in text
    assert f"Overdue since Sun 1 Nov 2026, 21:00 (KST): http://127.0.0.1:8000/issues/{weekend['fire'].pk}/" in text
    assert "Update due today, 10:00" in text
    assert text.index("Checkout down") < text.index("Labels") < text.index("Tracking")  # most urgent first
    assert "http://127.0.0.1:8000/dashboard/?team=" in text
    assert "Turn it off: http://127.0.0.1:8000/preferences/" in text
    assert "Your issues" not in text


def test_each_owner_hears_about_their_own_issues_with_links(weekend, manager, colleague):
    send_digests(now=MONDAY + 5 * MINUTE)

    hana = digest_to(manager).body_text
    assert "== Your issues: 1 breached, 1 due within 24 hours" in hana
    assert f"/issues/{weekend['fire'].pk}/" in hana and f"/issues/{weekend['waiting'].pk}/" in hana
    assert "Tracking" not in hana
    daniel = digest_to(colleague)
    assert daniel.subject == "Inloop digest, Mon 2 Nov: 0 breached, 1 due within 24 h"
    assert f"/issues/{weekend['soon'].pk}/" in daniel.body_text


def test_a_digest_goes_once_a_day_however_often_beat_runs(weekend, lead):
    for minutes in (0, 5, 15, 15, 30, 105):
        send_digests(now=MONDAY + minutes * MINUTE)

    assert len(digests()) == 3
    assert send_digests(now=MONDAY + DAY + MINUTE) == 3  # Tuesday is another day
    assert OutboundEmail.objects.filter(recipient=lead.email, kind=EmailKind.DIGEST).count() == 2


def test_nothing_goes_before_the_working_day_starts_or_long_after(weekend):
    assert send_digests(now=MONDAY - MINUTE) == 0
    assert send_digests(now=MONDAY + 2 * HOUR) == 0  # beat was down all morning: skip, do not surprise at noon
    assert send_digests(now=MONDAY - 2 * DAY + 5 * MINUTE) == 0  # Saturday: not a working day


def test_nobody_gets_an_empty_digest(office_hours, customer, lead, manager, outsider):
    calm = make_issue(customer=customer, at=MONDAY - HOUR, severity="blue", owner=manager)
    services.acknowledge(issue=calm, by=manager, now=MONDAY - 30 * MINUTE)  # next update due in 45 working hours

    assert send_digests(now=MONDAY + 5 * MINUTE) == 0
    assert calm.update_due_at > MONDAY + DAY


def test_someone_who_turned_digests_off_gets_none(client, weekend, lead, manager):
    client.force_login(manager)
    assert client.get(reverse("preferences")).status_code == 200
    assert not Profile.objects.filter(user=manager).exists()  # created on the first save, not on a visit

    response = client.post(reverse("preferences"), {})  # the box unticked

    assert response.status_code == 302
    assert Profile.objects.get(user=manager).receives_digest is False
    send_digests(now=MONDAY + 5 * MINUTE)
    assert manager.email not in [row.recipient for row in digests()]
    assert lead.email in [row.recipient for row in digests()]


def test_the_preferences_page_turns_digests_back_on_and_needs_a_login(client, manager):
    Profile.objects.create(user=manager, language="ko", receives_digest=False)
    assert client.get(reverse("preferences")).status_code == 302

    client.force_login(manager)
    client.post(reverse("preferences"), {"receives_digest": "on"})

    profile = Profile.objects.get(user=manager)
    assert profile.receives_digest is True and profile.language == "ko"


def test_the_digest_speaks_korean_to_who_chose_korean(weekend, lead):
    Profile.objects.create(user=lead, language="ko")

    send_digests(now=MONDAY + 5 * MINUTE)

    row = digest_to(lead)
    assert row.language == "ko"
    assert row.subject == "[Inloop] 11월 2일 (월요일) 요약: 기한 초과 1건, 24시간 내 마감 2건"
    assert "Jisoo Kim님, 좋은 아침입니다." in row.body_text
    assert "== Enterprise Support: 기한 초과 1건, 24시간 내 마감 2건 (오늘 업데이트 마감 1건)" in row.body_text
    assert "2026년 11월 1일 (일요일) 21:00 (KST)부터 기한 초과" in row.body_text
    assert "오늘 10:00까지 업데이트" in row.body_text
    assert "요약 메일 끄기" in row.body_html


def test_a_team_in_another_time_zone_hears_at_its_own_opening(customer, manager):
    london = BusinessCalendar.objects.create(name="London office", time_zone="Europe/London", holiday_country="GB",
                                             **{f"{day}_{edge}": hour for day in ("mon", "tue", "wed", "thu", "fri")
                                                for edge, hour in (("opens", time(9)), ("closes", time(17)))})
    lead = UserFactory(username="oliver", first_name="Oliver", last_name="Brown")
    team = TeamFactory(name="London Support", lead=lead, calendar=london)
    theirs = CustomerFactory(team=team, account_manager=lead)
    make_issue(customer=theirs, at=MONDAY - DAY, severity="red", owner=lead)
    nine_in_london = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))

    assert send_digests(now=MONDAY + 5 * MINUTE) == 0  # 00:05 in London
    assert send_digests(now=nine_in_london + 5 * MINUTE) == 1
    assert digest_to(lead).dedupe_key == f"digest:{lead.pk}:2026-11-02"


def test_a_team_without_a_calendar_hears_at_nine_in_the_sites_time_zone_every_day(team, customer, lead):
    saturday_nine = datetime(2026, 10, 31, 9, 0, tzinfo=ZoneInfo(settings.TIME_ZONE))
    make_issue(customer=customer, at=saturday_nine - 2 * HOUR, severity="red")

    assert send_digests(now=saturday_nine - MINUTE) == 0
    assert send_digests(now=saturday_nine + MINUTE) == 1


def test_an_owner_who_leads_the_team_is_listed_once_and_an_owner_in_a_leaderless_team_still_hears(
        office_hours, customer, lead, colleague):
    make_issue(customer=customer, at=MONDAY - DAY, severity="red", owner=lead, title="Lead's own")
    leaderless = TeamFactory(name="Night shift", lead=None)
    leaderless.members.add(colleague)
    make_issue(customer=CustomerFactory(team=leaderless, account_manager=colleague), at=MONDAY - DAY,
               severity="red", owner=colleague, title="Nobody leads this")

    send_digests(now=MONDAY + 5 * MINUTE)

    assert digest_to(lead).body_text.count("Lead's own") == 1
    assert "Your issues" not in digest_to(lead).body_text
    assert "Nobody leads this" in digest_to(colleague).body_text


@pytest.mark.parametrize("people", [2, 20])
def test_queueing_digests_takes_a_fixed_number_of_queries(
        office_hours, customer, manager, people, django_assert_max_num_queries):
    for n in range(people):
        owner = UserFactory()
        office_hours.members.add(owner)
        Profile.objects.create(user=owner, language="ko" if n % 2 else "en")
        for hours in (2, 30):
            make_issue(customer=customer, at=MONDAY - hours * HOUR, severity="red", owner=owner)

    with django_assert_max_num_queries(12):
        assert send_digests(now=MONDAY + 5 * MINUTE) == people + 1  # and the lead


def test_beat_runs_the_digest_task_every_quarter_hour(weekend, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-digests"]

    assert entry["task"] == send_digests_task.name
    assert entry["schedule"] == 900.0


def test_the_lead_sees_how_many_issues_wait_on_the_customer_and_since_when(weekend, customer, lead, manager):
    ContactFactory(customer=customer, follows_all_issues=True)
    asked = make_issue(customer=customer, at=MONDAY - 4 * DAY, severity="blue", owner=manager, title="Exports")
    wait_on_customer(asked, by=manager, now=MONDAY - 3 * DAY)

    send_digests(now=MONDAY + 5 * MINUTE)

    text = digest_to(lead).body_text
    assert "Waiting on the customer: 1 (the longest since Fri 30 Oct 2026, 09:00 (KST))." in text
    Profile.objects.create(user=lead, language="ko")
    OutboundEmail.objects.filter(kind="digest").delete()
    send_digests(now=MONDAY + 6 * MINUTE)
    assert "고객 회신 대기: 1건 (가장 오래된 대기는 2026년 10월 30일 (금요일) 09:00 (KST)부터)" in digest_to(lead).body_text
