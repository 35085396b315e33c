"""An issue acknowledged by moving it straight to *waiting on the customer*: the update clock is paused, so
the acknowledgement promises news within the window once the customer answers, never a blank date."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from issues import services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import BusinessCalendar, Status
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
HOUR = timedelta(hours=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts(customer):
    """Both follow all of Acme's issues."""
    return [ContactFactory(customer=customer, name="Grace Hopper", email="grace@acme.example.com", language="en",
                           follows_all_issues=True),
            ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.com", language="ko",
                           follows_all_issues=True)]


def acknowledged_by_waiting(customer, manager, severity: str) -> tuple[OutboundEmail, OutboundEmail]:
    issue = make_issue(customer=customer, at=MONDAY, severity=severity, owner=manager)
    services.change_status(issue=issue, status=Status.WAITING_ON_CUSTOMER, by=manager, now=MONDAY + HOUR)
    assert issue.update_due_at is None  # paused: there is no date to print
    english, korean = (rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.ACKNOWLEDGED)
                       .order_by("recipient"))
    return english, korean


def no_blank_date(email: OutboundEmail) -> None:
    for part in (email.body_text, email.body_html):
        assert "—" not in part
        assert "by  at the latest" not in part and "by <strong></strong>" not in part
        assert "늦어도 까지" not in part and "<strong></strong>까지" not in part


def test_an_orange_issue_waiting_on_the_customer_promises_news_within_two_days_of_their_answer(
        customer, contacts, manager):
    english, korean = acknowledged_by_waiting(customer, manager, "orange")

    for email in (english, korean):
        no_blank_date(email)
    assert "We are waiting for your answer; once you reply we will update you within 2 days." in english.body_text
    assert "waiting for your answer" in english.body_html and "within <strong>2 days</strong>" in english.body_html
    assert "지금은 고객님의 답변을 기다리고 있으며, 답변을 주시면 2일 이내에 다음 소식을 전해 드리겠습니다." in (
        korean.body_text)
    assert "<strong>2일</strong> 이내에" in korean.body_html


def test_a_red_issue_promises_one_day(customer, contacts, manager):
    english, korean = acknowledged_by_waiting(customer, manager, "red")

    assert "within 1 day." in english.body_text
    assert "1일 이내에" in korean.body_text


def test_on_a_business_calendar_the_window_is_told_in_working_hours(team, customer, contacts, manager):
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()

    english, korean = acknowledged_by_waiting(customer, manager, "blue")

    for email in (english, korean):
        no_blank_date(email)
    assert "within 45 working hours." in english.body_text
    assert "업무 시간 기준 45시간 이내에" in korean.body_text

