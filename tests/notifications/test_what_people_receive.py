"""Who is told what when an issue changes: the outbox rows each change writes, and what they say."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from issues import services
from issues.models import EventKind, Profile
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, make_issue

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

pytestmark = pytest.mark.django_db


def outbox(**filters) -> list[OutboundEmail]:
    """The queued rows, as the worker will render them."""
    return [rendered(row) for row in OutboundEmail.objects.filter(**filters).order_by("id")]


@pytest.fixture
def korean_contact(customer):
    return ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.com", language="ko",
                          follows_all_issues=True)


@pytest.fixture
def muted_contact(customer):
    return ContactFactory(customer=customer, name="Joan Clarke", email="joan@acme.example.com",
                          receives_updates=False, follows_all_issues=True)


def test_acknowledging_tells_each_contact_who_owns_it_and_when_the_next_update_comes(
        customer, contact, korean_contact, manager):
    issue = make_issue(customer=customer, at=T0, severity="orange")

    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    english, korean = outbox(kind=EmailKind.ACKNOWLEDGED)
    assert (english.recipient, english.language) == ("grace@acme.example.com", "en")
    assert english.subject == f"[ACME-{issue.pk}] We are on it: Invoices export times out"
    assert "Hana Lee is looking after it" in english.body_text
    assert "by Wed 4 Nov 2026, 10:00 (KST) at the latest" in english.body_text  # 2 days after 10:00 KST
    assert (korean.recipient, korean.language) == ("seoyeon@acme.example.com", "ko")
    assert korean.subject == f"[ACME-{issue.pk}] 문의를 접수했습니다: Invoices export times out"
    assert "박서연님, 안녕하세요." in korean.body_text
    assert "담당자 Hana Lee님이 살펴보고 있습니다" in korean.body_text
    assert "2026년 11월 4일 (수요일) 10:00 (KST)까지" in korean.body_text


def test_a_public_update_reaches_contacts_with_the_text_status_owner_and_promise(customer, contact, manager):
    issue = make_issue(customer=customer, at=T0, severity="orange", owner=manager)
    promise = T0 + DAY

    services.post_update(issue=issue, body="We found the cause: a stuck export job.", public=True, by=manager,
                         promised_update_at=promise, now=T0 + HOUR)

    (email,) = outbox(kind=EmailKind.PUBLIC_UPDATE)
    assert email.recipient == contact.email
    assert "We found the cause: a stuck export job." in email.body_text
    assert "Status: Acknowledged" in email.body_text
    assert "Owner: Hana Lee" in email.body_text
    assert "Next update: by Tue 3 Nov 2026, 09:00 (KST) (as promised)" in email.body_text
    assert not outbox(kind=EmailKind.ACKNOWLEDGED)  # the update itself says someone is on it


def test_an_internal_note_never_reaches_a_customer(customer, contact, muted_contact, manager):
    issue = make_issue(customer=customer, at=T0, owner=manager)
    secret = "Customer is on the legacy plan; do not offer a refund."

    services.post_update(issue=issue, body=secret, public=False, by=manager, now=T0 + HOUR)

    assert not OutboundEmail.objects.filter(recipient__in=[contact.email, muted_contact.email]).exists()
    assert not any("legacy plan" in row.body_text for row in outbox())


def test_a_contact_who_muted_updates_hears_only_that_the_issue_is_resolved(customer, muted_contact, manager):
    issue = make_issue(customer=customer, at=T0, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)
    services.post_update(issue=issue, body="Working on it.", public=True, by=manager, now=T0 + 2 * HOUR)

    services.resolve(issue=issue, by=manager, body="Fixed in release 4.2.", now=T0 + 3 * HOUR)

    (resolved,) = outbox(recipient=muted_contact.email)
    assert resolved.kind == EmailKind.RESOLVED
    assert "Fixed in release 4.2." in resolved.body_text
    assert "reply to this email and we will reopen the issue" in resolved.body_text


def test_the_new_owner_is_told_in_their_language_but_not_when_they_took_it_themselves(customer, manager, colleague):
    Profile.objects.create(user=colleague, language="ko")
    issue = make_issue(customer=customer, at=T0, owner=manager)

    services.assign(issue=issue, owner=colleague, by=manager, now=T0 + HOUR)
    services.assign(issue=issue, owner=manager, by=manager, now=T0 + 2 * HOUR)

    (email,) = outbox(kind=EmailKind.ASSIGNED)
    assert email.recipient == colleague.email and email.language == "ko"
    assert "Hana Lee님이" in email.body_text and "배정했습니다" in email.body_text
    assert f"/issues/{issue.pk}/" in email.body_text


def test_the_team_lead_is_told_at_once_when_a_red_issue_is_opened_or_raised(customer, manager, lead):
    red = make_issue(customer=customer, at=T0, severity="red", by=manager)
    blue = make_issue(customer=customer, at=T0, severity="blue", by=manager)
    services.change_severity(issue=blue, severity="red", by=manager, now=T0 + HOUR)

    opened, raised = outbox(kind=EmailKind.RED_ISSUE)
    assert opened.recipient == raised.recipient == lead.email
    assert opened.issue == red and "opened a red issue" in opened.body_text
    assert raised.issue == blue and "raised" in raised.body_text and "to red" in raised.body_text


def test_the_owner_hears_when_a_colleague_reopens_their_issue(customer, manager, colleague):
    issue = make_issue(customer=customer, at=T0, owner=manager)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=T0 + HOUR)

    services.reopen(issue=issue, by=colleague, now=T0 + DAY)

    (email,) = outbox(kind=EmailKind.REOPENED)
    assert email.recipient == manager.email
    assert "Daniel Cho reopened" in email.body_text


def test_queued_emails_are_noted_on_the_timeline_as_internal_events(customer, contact, manager):
    issue = make_issue(customer=customer, at=T0)

    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    event = issue.events.get(kind=EventKind.EMAIL_QUEUED)
    assert not event.public
    assert event.data == {"kind": "acknowledged", "recipients": [contact.email]}


def test_a_title_with_line_breaks_cannot_inject_headers(customer, contact, manager):
    issue = make_issue(customer=customer, at=T0,
                       title="Export broken\r\nBcc: attacker@evil.example\u2028X-Spam: yes")

    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    (email,) = outbox(kind=EmailKind.ACKNOWLEDGED)
    assert "\n" not in email.subject and "\r" not in email.subject and "\u2028" not in email.subject
    assert email.subject.endswith("Export broken Bcc: attacker@evil.example X-Spam: yes")


def test_markup_in_titles_and_updates_is_escaped_in_html_and_left_alone_in_text(customer, contact, manager):
    issue = make_issue(customer=customer, at=T0, title="<script>alert('title')</script> & more")

    services.post_update(issue=issue, body="<img src=x onerror=alert(1)> 5 < 6", public=True, by=manager,
                         now=T0 + HOUR)

    (email,) = outbox(kind=EmailKind.PUBLIC_UPDATE)
    assert "<script>" not in email.body_html and "&lt;script&gt;" in email.body_html
    assert "<img src=x" not in email.body_html and "&lt;img src=x onerror=alert(1)&gt; 5 &lt; 6" in email.body_html
    assert "<script>alert('title')</script> & more" in email.body_text
    assert "<img src=x onerror=alert(1)> 5 < 6" in email.body_text


def test_the_same_change_enqueued_twice_writes_one_row(customer, contact, manager):
    from notifications import emails

    issue = make_issue(customer=customer, at=T0)
    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)
    issue.refresh_from_db()

    emails.acknowledged(issue, now=T0 + 2 * HOUR)

    assert len(outbox(kind=EmailKind.ACKNOWLEDGED)) == 1
    assert issue.events.filter(kind=EventKind.EMAIL_QUEUED).count() == 1


def test_customer_emails_carry_threading_and_one_click_unsubscribe_headers(customer, contact, manager):
    issue = make_issue(customer=customer, at=T0)

    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    (email,) = outbox(kind=EmailKind.ACKNOWLEDGED)
    assert email.headers["In-Reply-To"] == email.headers["References"] == f"<issue-{issue.pk}@inloop.localhost>"
    assert email.headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/email/unsubscribe/")
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.message_id.startswith("<") and email.message_id.endswith("@inloop.localhost>")


def test_a_change_rolled_back_leaves_no_email_behind(customer, contact, manager, monkeypatch):
    issue = make_issue(customer=customer, at=T0)

    from notifications import outbox as real_outbox

    def enqueue_then_crash(emails, **kwargs):
        written = real_outbox.enqueue(emails, **kwargs)
        assert OutboundEmail.objects.count() == len(written) == 1  # the row was there, inside the transaction
        raise RuntimeError("worker killed mid-change")

    monkeypatch.setattr("notifications.emails.enqueue", enqueue_then_crash)
    with pytest.raises(RuntimeError, match="killed"):
        services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    assert not OutboundEmail.objects.exists()
    assert issue.events.filter(kind=EventKind.ACKNOWLEDGED).count() == 0
