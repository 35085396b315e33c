"""Closures announced: a few working days before the office closes for three days or more, each owner gets the
list of their issues due before we are back ("post an update before you leave") and each contact one notice in
their language: when we are closed, who owns their issues, when they hear next and what to do if it is urgent.

The stories run on the default Seoul calendar (Mon-Fri 09:00-18:00, Korean public holidays): Seollal 2026 closes
the office from Saturday 14 to Wednesday 18 February, Chuseok 2025 from Friday 3 to Thursday 9 October, and the
Independence Movement Day's substitute holiday makes Saturday 28 February to Monday 2 March 2026 a long weekend.
"""

from __future__ import annotations

import threading
import time as clock
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from issues import services
from issues.calendars import WorkingCalendar
from issues.closures import announce_closures, closed_runs, notice_at, upcoming
from issues.defaults import DEFAULT_CALENDAR, create_default_calendar
from issues.models import (
    BusinessCalendar,
    ClosedDay,
    Closure,
    EventKind,
    IssueEvent,
    Profile,
)
from notifications import closures as tell
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, CustomerFactory, bulk_issues, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
LONDON = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def seoul(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


SEOLLAL_NOTICE = seoul(2026, 2, 12, 9)  # Thursday: two working days before Saturday 14 February
CHUSEOK_NOTICE = seoul(2025, 10, 1, 9)  # Wednesday: two working days before Friday 3 October
LONG_WEEKEND_NOTICE = seoul(2026, 2, 26, 9)  # Thursday before Saturday 28 February - Monday 2 March

pytestmark = pytest.mark.django_db


def outbox(kind: str, **filters) -> list[OutboundEmail]:
    """The queued rows of one kind, as the worker will render them."""
    return [rendered(row) for row in OutboundEmail.objects.filter(kind=kind, **filters).order_by("id")]


def closure_rows() -> int:
    return OutboundEmail.objects.filter(kind__in=[EmailKind.CLOSURE_NOTICE, EmailKind.CLOSURE_OWNER]).count()


@pytest.fixture
def seoul_office(team):
    create_default_calendar(BusinessCalendar)  # a transactional test empties the table the migration filled
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    return team.calendar


@pytest.fixture
def korean_contact(customer):
    return ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.com", language="ko",
                          follows_all_issues=True)


@pytest.fixture
def seollal_issues(seoul_office, customer, contact, korean_contact, manager, colleague):
    """Three open issues of Acme before Seollal: Hana's update falls due during the holidays, so does Daniel's;
    Hana's second was acknowledged at the notice time, so its update is due only after we are back."""
    exports = make_issue(customer=customer, at=seoul(2026, 2, 10, 10), owner=manager, title="Invoices export times out")
    services.acknowledge(issue=exports, by=manager, now=seoul(2026, 2, 10, 11))
    labels = make_issue(customer=customer, at=seoul(2026, 2, 10, 14), owner=colleague, title="Labels print blank")
    services.acknowledge(issue=labels, by=colleague, now=seoul(2026, 2, 10, 15))
    later = make_issue(customer=customer, at=seoul(2026, 2, 11, 16), owner=manager, title="Slow search")
    services.acknowledge(issue=later, by=manager, now=SEOLLAL_NOTICE)
    return exports, labels, later


# --- the calendar: which runs of closed days count ------------------------------------------------------------


def test_seollal_and_chuseok_are_runs_of_closed_days_and_a_plain_weekend_is_not(seoul_office):
    calendar = seoul_office.working_calendar()

    runs = closed_runs(calendar, start=date(2025, 9, 1), days=200, min_days=3)

    assert (date(2025, 10, 3), date(2025, 10, 9)) in runs  # Chuseok: seven days
    assert (date(2026, 2, 14), date(2026, 2, 18)) in runs  # Seollal: five days
    assert (date(2026, 2, 28), date(2026, 3, 2)) in runs  # a weekend with a Monday holiday
    assert all((last - first).days >= 2 for first, last in runs)
    weekends = [day for day in (date(2025, 9, 1) + n * DAY for n in range(200)) if day.weekday() == 5]
    assert len(weekends) > 25 and len(runs) < 8  # most weekends are two days: none of those is a run


def test_the_notice_is_due_at_the_opening_of_the_second_working_day_before_the_run(seoul_office):
    calendar = seoul_office.working_calendar()

    assert notice_at(calendar, date(2026, 2, 14), working_days=2, since=date(2026, 2, 1)) == SEOLLAL_NOTICE
    assert notice_at(calendar, date(2025, 10, 3), working_days=2, since=date(2025, 9, 1)) == CHUSEOK_NOTICE
    # Fewer working days left than asked for: the opening of the first one left, or at once when none is.
    assert notice_at(calendar, date(2026, 2, 14), working_days=2, since=date(2026, 2, 13)) == seoul(2026, 2, 13, 9)
    assert notice_at(calendar, date(2026, 2, 14), working_days=2, since=date(2026, 2, 14)) == seoul(2026, 2, 14, 0)


def test_a_run_under_way_is_not_announced_and_one_ahead_knows_when_we_are_back(seoul_office):
    calendar = seoul_office.working_calendar()

    (ahead,) = [run for run in upcoming(calendar, now=SEOLLAL_NOTICE, min_days=3, notice_working_days=2)
                if run.first_day.month == 2 and run.first_day.day == 14]
    assert (ahead.starts_at, ahead.ends_at, ahead.back_at) == (seoul(2026, 2, 14), seoul(2026, 2, 19),
                                                              seoul(2026, 2, 19, 9))
    assert ahead.due(SEOLLAL_NOTICE) and not ahead.due(SEOLLAL_NOTICE - HOUR)
    under_way = upcoming(calendar, now=seoul(2026, 2, 16, 10), min_days=3, notice_working_days=2)
    assert date(2026, 2, 14) not in [run.first_day for run in under_way]


def test_a_calendar_open_every_day_has_no_closures():
    every_day = WorkingCalendar(zone=SEOUL, hours={day: (time(9), time(18)) for day in range(7)})

    assert closed_runs(every_day, start=date(2026, 1, 1), days=365, min_days=3) == []


# --- the stories ---------------------------------------------------------------------------------------------


def test_nothing_is_announced_before_the_notice_time(seollal_issues):
    assert announce_closures(now=SEOLLAL_NOTICE - timedelta(minutes=1)) == 0

    assert closure_rows() == 0
    assert not Closure.objects.exists()


def test_every_working_morning_before_seollal_a_two_day_weekend_is_never_announced(seollal_issues):
    mornings = [seoul(2026, 1, 5, 9) + n * DAY for n in range(38)]  # Monday 5 January to Wednesday 11 February

    announced = [announce_closures(now=morning) for morning in mornings]

    assert len(announced) == 38 and sum(announced) == 0
    assert closure_rows() == 0
    assert announce_closures(now=SEOLLAL_NOTICE) == 1


def test_at_the_notice_time_each_owner_gets_one_list_of_only_their_issues_due_before_we_are_back(
        seollal_issues, manager, colleague, lead):
    exports, labels, later = seollal_issues
    Profile.objects.update_or_create(user=colleague, defaults={"language": "ko"})

    assert announce_closures(now=SEOLLAL_NOTICE) == 1

    hana, daniel = outbox(EmailKind.CLOSURE_OWNER)
    assert (hana.recipient, daniel.recipient) == (manager.email, colleague.email)
    assert hana.subject == "Office closed Sat 14 Feb – Wed 18 Feb: 1 issue to update before you leave"
    assert "closed from Saturday 14 February to Wednesday 18 February 2026 (5 days)" in hana.body_text
    assert "opens again on Thursday 19 February at 09:00" in hana.body_text
    assert f"ACME-{exports.pk} Invoices export times out (Acme Logistics)" in hana.body_text
    assert "Update the customer by Tue 17 Feb 2026, 11:00 (KST)" in hana.body_text  # a week after the acknowledgement
    assert reverse("issue_detail", kwargs={"pk": exports.pk}) in hana.body_text
    assert "Post an update before you leave" in hana.body_text
    assert f"ACME-{later.pk}" not in hana.body_text  # due on Thursday 19 February 09:00: after we are back
    assert f"ACME-{labels.pk}" not in hana.body_text  # Daniel's
    assert daniel.language == "ko"
    assert daniel.subject == "[Inloop] 휴무 전 업데이트 필요 1건 (2월 14일~2월 18일 휴무)"
    assert "2월 14일 (토요일)부터 2026년 2월 18일 (수요일)까지 5일간 휴무" in daniel.body_text
    assert f"ACME-{labels.pk} Labels print blank" in daniel.body_text
    assert "고객 업데이트 기한: 2026년 2월 17일 (화요일) 15:00 (KST)" in daniel.body_text
    assert "휴무에 들어가기 전에 업데이트를 남겨 주세요" in daniel.body_text
    assert not OutboundEmail.objects.filter(kind=EmailKind.CLOSURE_OWNER, recipient=lead.email).exists()
    assert OutboundEmail.objects.get(recipient=manager.email, kind=EmailKind.CLOSURE_OWNER).dedupe_key == (
        f"closure:{Closure.objects.get().pk}:staff:{manager.pk}")


def test_each_contact_gets_one_notice_in_their_language_with_the_dates_owners_and_next_update(
        seollal_issues, contact, korean_contact):
    exports, labels, later = seollal_issues

    announce_closures(now=SEOLLAL_NOTICE)

    english, korean = outbox(EmailKind.CLOSURE_NOTICE)
    assert (english.recipient, english.language, english.issue_id) == (contact.email, "en", None)
    assert english.subject == "Our office is closed Sat 14 Feb – Wed 18 Feb: when you will hear from us"
    text = english.body_text
    assert "Hello Grace Hopper," in text
    assert "closed from Saturday 14 February to Wednesday 18 February 2026 (5 days)" in text
    assert "We are back on Thursday 19 February at 09:00 (Asia/Seoul time)" in text
    assert (f"- ACME-{exports.pk} Invoices export times out\n  Owner: Hana Lee. "
            "You will hear from us by Tue 17 Feb 2026, 11:00 (KST).") in text
    assert f"- ACME-{labels.pk} Labels print blank\n  Owner: Daniel Cho." in text
    assert f"- ACME-{later.pk} Slow search\n  Owner: Hana Lee. You will hear from us by Thu 19 Feb 2026, 09:00 (KST)." in text
    assert "Red (urgent) issues are handled around the clock" in text
    assert "write to hana@inloop.example.com and say in the subject that it is urgent" in text  # no team address
    assert "Stop status updates" in text and "/unsubscribe/" in text
    assert "[ref:" not in text and "Reply-To" not in english.headers  # about no one issue: no reply token
    assert "List-Unsubscribe" in english.headers
    assert "Acme Logistics" in english.body_html and "Hana Lee" in english.body_html
    assert (korean.recipient, korean.language) == (korean_contact.email, "ko")
    assert korean.subject == "휴무 안내 (2월 14일~2월 18일): 진행 중인 문의의 다음 연락 일정"
    assert "박서연님, 안녕하세요." in korean.body_text
    assert "2월 14일 (토요일)부터 2026년 2월 18일 (수요일)까지 5일간 휴무입니다" in korean.body_text
    assert "2월 19일 (목요일) 09:00(Asia/Seoul 기준)부터 다시 업무를 시작합니다" in korean.body_text
    assert "담당자: Hana Lee님 / 다음 연락: 2026년 2월 17일 (화요일) 11:00 (KST)까지" in korean.body_text
    assert "제목에 긴급이라고 적어 주세요" in korean.body_text
    assert OutboundEmail.objects.get(recipient=contact.email, kind=EmailKind.CLOSURE_NOTICE).dedupe_key == (
        f"closure:{Closure.objects.get().pk}:contact:{contact.pk}")


def test_a_second_run_and_a_run_the_next_hour_send_nothing_more(seollal_issues):
    assert announce_closures(now=SEOLLAL_NOTICE) == 1
    sent = closure_rows()
    events = IssueEvent.objects.filter(kind=EventKind.CLOSURE_ANNOUNCED).count()

    assert announce_closures(now=SEOLLAL_NOTICE) == 0
    assert announce_closures(now=SEOLLAL_NOTICE + HOUR) == 0
    call_command("announce_closures")  # today, whatever it is: never Seollal 2026 again

    assert sent == 4  # two owners, two contacts
    assert closure_rows() == sent
    assert IssueEvent.objects.filter(kind=EventKind.CLOSURE_ANNOUNCED).count() == events == 3
    assert Closure.objects.filter(first_day=date(2026, 2, 14), last_day=date(2026, 2, 18)).count() == 1


def test_the_notice_does_not_count_as_news_about_the_issue(seollal_issues):
    exports, _labels, _later = seollal_issues
    exports.refresh_from_db()
    heard = exports.customer_last_heard_at

    announce_closures(now=SEOLLAL_NOTICE)

    exports.refresh_from_db()
    assert exports.customer_last_heard_at == heard
    assert not IssueEvent.objects.filter(issue=exports, kind=EventKind.EMAIL_QUEUED, at=SEOLLAL_NOTICE).exists()


def test_a_muted_or_undeliverable_contact_gets_no_notice(seollal_issues, customer, contact):
    muted = ContactFactory(customer=customer, name="Joan Clarke", email="joan@acme.example.com",
                           receives_updates=False, follows_all_issues=True)
    bounced = ContactFactory(customer=customer, name="Alan Turing", email="alan@acme.example.com",
                             follows_all_issues=True, undeliverable_at=SEOLLAL_NOTICE - DAY)

    announce_closures(now=SEOLLAL_NOTICE)

    told = set(OutboundEmail.objects.filter(kind=EmailKind.CLOSURE_NOTICE).values_list("recipient", flat=True))
    assert contact.email in told
    assert not told & {muted.email, bounced.email}


def test_the_timeline_shows_the_announcement(seollal_issues, client, manager, contact, korean_contact):
    exports, _labels, _later = seollal_issues

    announce_closures(now=SEOLLAL_NOTICE)

    event = IssueEvent.objects.get(issue=exports, kind=EventKind.CLOSURE_ANNOUNCED)
    assert (event.public, event.actor, event.at) == (False, None, SEOLLAL_NOTICE)
    assert event.data == {"first_day": "2026-02-14", "last_day": "2026-02-18",
                          "recipients": [contact.email, korean_contact.email], "owners": ["Hana Lee"]}
    client.force_login(manager)
    page = client.get(reverse("issue_detail", kwargs={"pk": exports.pk})).content.decode()
    assert "Office closed 2026-02-14 (Sat) – 2026-02-18 (Wed): announced to grace@acme.example.com" in page


def test_before_chuseok_a_waiting_issue_hears_after_the_answer_and_an_unacknowledged_one_by_its_due_time(
        seoul_office, customer, contact, manager):
    waiting = make_issue(customer=customer, at=seoul(2025, 9, 29, 10), owner=manager, title="Wrong totals")
    services.post_update(issue=waiting, body="Which invoice shows the wrong total?", public=True, by=manager,
                         wait=True, now=seoul(2025, 9, 29, 11))
    new = make_issue(customer=customer, at=CHUSEOK_NOTICE - timedelta(minutes=30), owner=manager, severity="red",
                     title="Nobody can log in")
    late = make_issue(customer=customer, at=seoul(2025, 9, 30, 17), owner=manager, severity="red",
                      title="Payments fail")

    assert announce_closures(now=CHUSEOK_NOTICE) == 1

    (notice,) = outbox(EmailKind.CLOSURE_NOTICE)
    text = notice.body_text
    assert "closed from Friday 3 October to Thursday 9 October 2025 (7 days)" in text
    assert "We are back on Friday 10 October at 09:00" in text
    assert f"- ACME-{waiting.pk} Wrong totals\n  Owner: Hana Lee. We are waiting for the information" in text
    assert (f"- ACME-{new.pk} Nobody can log in (red)\n  Owner: Hana Lee. "
            "We will confirm we have it by Wed 1 Oct 2025, 09:30 (KST).") in text  # an hour for red, around the clock
    assert f"- ACME-{late.pk} Payments fail (red)\n  Owner: Hana Lee. You will hear from us shortly." in text
    (owner,) = outbox(EmailKind.CLOSURE_OWNER)
    assert "Acknowledge by Wed 1 Oct 2025, 09:30 (KST)" in owner.body_text
    assert "Overdue since Tue 30 Sep 2025, 18:00 (KST)" in owner.body_text
    assert f"ACME-{waiting.pk} Wrong totals" in owner.body_text
    assert "Waiting on the customer ends Mon 6 Oct 2025, 11:00 (KST)" in owner.body_text  # seven days: in the holidays
    assert "These 3 issues fall due before then" in owner.body_text


def test_an_issue_whose_owner_left_the_team_goes_on_the_list_of_whoever_stands_in(
        seollal_issues, team, colleague, lead, manager):
    team.members.remove(colleague)

    announce_closures(now=SEOLLAL_NOTICE)

    told = set(OutboundEmail.objects.filter(kind=EmailKind.CLOSURE_OWNER).values_list("recipient", flat=True))
    assert told == {manager.email, lead.email}
    (jisoo,) = outbox(EmailKind.CLOSURE_OWNER, recipient=lead.email)
    assert "Labels print blank (Acme Logistics; you stand in for Daniel Cho)" in jisoo.body_text


def test_a_long_weekend_with_a_monday_holiday_is_announced(seoul_office, customer, contact, manager):
    issue = make_issue(customer=customer, at=seoul(2026, 2, 25, 10), owner=manager, severity="orange")
    services.acknowledge(issue=issue, by=manager, now=seoul(2026, 2, 25, 11))

    assert announce_closures(now=LONG_WEEKEND_NOTICE - HOUR) == 0
    assert announce_closures(now=LONG_WEEKEND_NOTICE) == 1

    assert Closure.objects.get().first_day == date(2026, 2, 28)
    (notice,) = outbox(EmailKind.CLOSURE_NOTICE)
    assert "closed from Saturday 28 February to Monday 2 March 2026 (3 days)" in notice.body_text
    assert "We are back on Tuesday 3 March at 09:00" in notice.body_text
    (owner,) = outbox(EmailKind.CLOSURE_OWNER)
    assert "Update the customer by Fri 27 Feb 2026, 11:00 (KST)" in owner.body_text  # orange: two calendar days


def test_a_customer_on_its_own_calendar_follows_it_and_not_its_teams(seoul_office, team, contact, manager):
    london = BusinessCalendar.objects.create(
        name="London office", time_zone="Europe/London", holiday_country="",
        **{f"{day}_{edge}": hour for day in ("mon", "tue", "wed", "thu", "fri")
           for edge, hour in (("opens", time(9)), ("closes", time(17, 30)))})
    ClosedDay.objects.create(calendar=london, date=date(2026, 2, 20), name="Office move")
    globex = CustomerFactory(name="Globex", code="GLOBEX", team=team, account_manager=manager, calendar=london)
    nigel = ContactFactory(customer=globex, name="Nigel Walsh", email="nigel@globex.example.com",
                           follows_all_issues=True)
    issue = make_issue(customer=globex, at=datetime(2026, 2, 9, 10, tzinfo=LONDON), owner=manager)

    assert announce_closures(now=SEOLLAL_NOTICE) == 1  # Seollal, on the Seoul calendar: Globex works through it
    assert not OutboundEmail.objects.exists()  # and Acme has no open issue: nobody to tell

    london_notice = datetime(2026, 2, 18, 9, tzinfo=LONDON)  # two working days before Friday 20 February
    assert announce_closures(now=london_notice - timedelta(minutes=1)) == 0
    assert announce_closures(now=london_notice) == 1

    (notice,) = outbox(EmailKind.CLOSURE_NOTICE)
    assert notice.recipient == nigel.email
    assert "closed from Friday 20 February to Sunday 22 February 2026 (3 days)" in notice.body_text
    assert "We are back on Monday 23 February at 09:00 (Europe/London time)" in notice.body_text
    assert f"GLOBEX-{issue.pk}" in notice.body_text
    assert not OutboundEmail.objects.filter(recipient=contact.email).exists()
    assert set(Closure.objects.values_list("calendar__name", "first_day")) == {
        ("London office", date(2026, 2, 20)), (DEFAULT_CALENDAR, date(2026, 2, 14))}


def test_the_team_address_is_where_customers_write_when_it_is_urgent(seollal_issues, team):
    team.email = "support@inloop.example.com"
    team.save()

    announce_closures(now=SEOLLAL_NOTICE)

    english, korean = outbox(EmailKind.CLOSURE_NOTICE)
    assert "write to support@inloop.example.com and say in the subject that it is urgent" in english.body_text
    assert "support@inloop.example.com 주소로 메일을 보내 주시고" in korean.body_text


def test_the_announcement_costs_the_same_queries_for_5_or_50_issues(
        seoul_office, customer, contact, django_assert_max_num_queries):
    bulk_issues(customer=customer, count=5, opened_at=seoul(2026, 2, 11, 10), acknowledged_at=seoul(2026, 2, 11, 11))
    with CaptureQueriesContext(connection) as five:
        assert announce_closures(now=SEOLLAL_NOTICE) == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.CLOSURE_NOTICE).count() == 1

    bulk_issues(customer=customer, count=45, opened_at=seoul(2026, 2, 25, 10), acknowledged_at=seoul(2026, 2, 25, 11))
    with django_assert_max_num_queries(len(five)):
        assert announce_closures(now=LONG_WEEKEND_NOTICE) == 1

    long_weekend = Closure.objects.get(first_day=date(2026, 2, 28))
    (notice,) = OutboundEmail.objects.filter(dedupe_key=f"closure:{long_weekend.pk}:contact:{contact.pk}")
    assert len(notice.context["issues"]) == 50
    assert IssueEvent.objects.filter(kind=EventKind.CLOSURE_ANNOUNCED).count() == 55


def waits_on_a_lock(seconds: float = 10) -> bool:
    """Whether another connection comes to wait on a row lock within `seconds` (PostgreSQL)."""
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            if cursor.fetchone()[0]:
                return True
        clock.sleep(0.05)
    return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_announce_the_closure_once(seollal_issues, monkeypatch):
    """The first run has written the closure's row and is still queueing when the second starts: the second
    finds no row yet (not committed), waits on the row's unique key, and then does nothing."""
    first_is_queueing, go_on = threading.Event(), threading.Event()
    queue = tell.contacts

    def slow_contacts(*args, **kwargs):
        if threading.current_thread().name == "first":
            first_is_queueing.set()
            go_on.wait(10)
        return queue(*args, **kwargs)

    monkeypatch.setattr(tell, "contacts", slow_contacts)
    results = {}

    def run(name: str) -> None:
        try:
            results[name] = announce_closures(now=SEOLLAL_NOTICE)
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first",), name="first")
    second = threading.Thread(target=run, args=("second",), name="second")
    first.start()
    assert first_is_queueing.wait(10)
    second.start()
    assert waits_on_a_lock(), "the second run should wait on the closure's row"
    go_on.set()
    first.join(20)
    second.join(20)

    assert results == {"first": 1, "second": 0}
    assert closure_rows() == 4
    assert IssueEvent.objects.filter(kind=EventKind.CLOSURE_ANNOUNCED).count() == 3
