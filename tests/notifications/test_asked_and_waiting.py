"""A new issue answered with a question ("send and wait"): the question acknowledges the issue, and its email
says that we wait for the customer's answer, when they will be reminded and when we go on without it; never a
blank date. The reminder and the owner's notice when the wait ends read as well in both languages."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from issues import services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import BusinessCalendar, Status
from issues.scan import scan_sla
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, make_issue, wait_on_customer

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts(customer):
    """Both follow all of Acme's issues."""
    return [ContactFactory(customer=customer, name="Grace Hopper", email="grace@acme.example.com", language="en",
                           follows_all_issues=True),
            ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.com", language="ko",
                           follows_all_issues=True)]


def emails(kind: str) -> list[OutboundEmail]:
    return [rendered(row) for row in OutboundEmail.objects.filter(kind=kind).order_by("recipient")]


def no_blank_date(email: OutboundEmail) -> None:
    for part in (email.body_text, email.body_html):
        assert "—" not in part and "by  " not in part and "<strong></strong>" not in part
        assert " 까지" not in part


def test_a_question_on_a_new_issue_acknowledges_it_and_says_what_happens_without_an_answer(
        customer, contacts, manager):
    issue = make_issue(customer=customer, at=MONDAY, severity="orange", owner=manager)
    wait_on_customer(issue, by=manager, now=MONDAY + HOUR, body="Which invoice numbers fail?")
    issue.refresh_from_db()

    assert issue.acknowledged_at == MONDAY + HOUR and issue.status == Status.WAITING_ON_CUSTOMER
    assert not OutboundEmail.objects.filter(kind=EmailKind.ACKNOWLEDGED).exists()  # the question says it all
    english, korean = emails(EmailKind.PUBLIC_UPDATE)
    for email in (english, korean):
        no_blank_date(email)
        assert "Which invoice numbers fail?" in email.body_text
    assert "We need your answer to go on: just reply to this email." in english.body_text
    assert "by Thu 5 Nov 2026, 10:00 (KST), we will remind you once; on Mon 9 Nov 2026, 10:00 (KST) we go on" in (
        english.body_text)
    assert "Next update" not in english.body_text
    assert "진행을 위해 답변이 필요합니다. 이 메일에 회신해 주시면 됩니다." in korean.body_text
    assert "2026년 11월 5일 (목요일) 10:00 (KST)까지 답변이 없으면 한 번 다시 여쭙고" in korean.body_text


def test_a_promise_made_before_the_question_is_kept_and_said_again(customer, contacts, manager):
    issue = make_issue(customer=customer, at=MONDAY, severity="orange", owner=manager)
    promise = MONDAY + DAY + 8 * HOUR
    services.post_update(issue=issue, body="We are on it.", public=True, by=manager, now=MONDAY + HOUR,
                         promised_update_at=promise)
    wait_on_customer(issue, by=manager, now=MONDAY + 2 * HOUR)
    issue.refresh_from_db()

    assert issue.promised_update_at == promise and issue.waiting_ends_at == promise
    question = OutboundEmail.objects.filter(kind=EmailKind.PUBLIC_UPDATE).order_by("-pk", "recipient")
    english = rendered(question.filter(recipient="grace@acme.example.com").first())
    assert "In any case you will hear from us by Tue 3 Nov 2026, 17:00 (KST), as promised." in english.body_text
    event = issue.events.filter(kind="public_update").last()
    assert event.data["kept_promise"] is True


def test_the_reminder_quotes_the_question_and_the_owner_hears_when_the_wait_ends(team, customer, contacts,
                                                                                manager):
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    issue = make_issue(customer=customer, at=MONDAY, severity="blue", owner=manager)
    wait_on_customer(issue, by=manager, now=MONDAY + HOUR, body="Which invoice numbers fail?")

    assert scan_sla(now=MONDAY + 3 * DAY + HOUR).waiting_reminders == 1  # Thursday: three working days
    english, korean = emails(EmailKind.WAITING_REMINDER)
    for email in (english, korean):
        no_blank_date(email)
        assert "Which invoice numbers fail?" in email.body_text
        assert email.headers["Auto-Submitted"] == "auto-generated" and "[ref:" in email.body_text  # answerable
    assert "A gentle reminder" in english.body_text and "by Mon 9 Nov 2026, 10:00 (KST), we go on" in english.body_text
    assert "다시 한번 부탁드립니다" in korean.body_text

    assert scan_sla(now=MONDAY + 7 * DAY + HOUR).waits_ended == 1
    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS
    assert issue.update_due_at == MONDAY + 10 * DAY + HOUR  # a week after the reminder, the last news they had
    [notice] = emails(EmailKind.WAITING_ENDED)
    assert notice.recipient == manager.email
    assert "has not answered the question" in notice.body_text and "news by Thu 12 Nov 2026, 10:00 (KST)" in (
        notice.body_text)
    assert scan_sla(now=MONDAY + 7 * DAY + 2 * HOUR).waits_ended == 0  # once
