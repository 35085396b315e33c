"""After a resolution, the customer's word: solved or not, and a rating from 1 to 5.

Hana resolves Acme's "Invoices export times out". Grace, Acme's contact, says it is solved and rates it; or
says it is not solved, in her own words, which reopen the issue and reach Hana as an emailed answer would. One
word per contact per resolution: a second rating replaces the first, and only after a reopen and a second
resolution may she judge it afresh. Each word is copied to Grace's own address; a low rating tells Hana and
Jisoo, the team lead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from issues import feedback, services
from issues.models import EventKind, Feedback, Issue, Profile, Status
from issues.templatetags.inloop import event_summary
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, CustomerFactory, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=SEOUL)
RESOLVED_AT = MONDAY + timedelta(hours=6)
TUESDAY = MONDAY + timedelta(days=1)

pytestmark = pytest.mark.django_db


def outbox(kind: str, **filters) -> list[OutboundEmail]:
    """The queued rows of one kind, as the worker will render them."""
    return [rendered(row) for row in OutboundEmail.objects.filter(kind=kind, **filters).order_by("id")]


@pytest.fixture
def issue(customer, contact, manager):
    """Hana's issue for Acme, reported by Grace, resolved on Monday afternoon."""
    issue = make_issue(customer=customer, at=MONDAY, owner=manager, reporter=contact)
    services.acknowledge(issue=issue, by=manager, now=MONDAY + timedelta(hours=1))
    services.resolve(issue=issue, by=manager, body="The export now runs in the background.", now=RESOLVED_AT)
    return issue


def test_grace_says_it_is_solved_and_it_is_recorded_for_this_resolution_with_a_copy_to_her(issue, contact, manager):
    said = feedback.solved(issue=issue, contact=contact, now=TUESDAY)

    [row] = Feedback.objects.all()
    assert row == said
    assert (row.issue, row.contact, row.resolved_at, row.owner) == (issue, contact, RESOLVED_AT, manager)
    assert (row.solved, row.score, row.created_at) == (True, None, TUESDAY)
    event = issue.events.get(kind=EventKind.SAID_SOLVED)
    assert (event.actor, event.public, event.data["contact"]) == (None, True, contact.pk)
    with translation.override("en"):
        assert event_summary(event) == "Grace Hopper said it is solved"
    [copy] = outbox(EmailKind.FEEDBACK_COPY)
    assert copy.recipient == "grace@acme.example.com"
    assert copy.subject == f"[{issue.reference}] You said it is solved: Invoices export times out"
    assert "If it was not you, reply to this email" in copy.body_text
    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED  # nothing else changes


def test_not_solved_reopens_the_issue_with_her_words_and_hana_is_told(issue, contact, manager):
    landed = feedback.not_solved(issue=issue, contact=contact, words="The export still stops at 10,000 rows.",
                                 now=TUESDAY)

    issue.refresh_from_db()
    assert landed == issue and issue.status == Status.NEW and issue.resolved_at is None
    message = issue.events.get(kind=EventKind.CUSTOMER_MESSAGE)
    assert message.body == "The export still stops at 10,000 rows." and message.public
    [row] = Feedback.objects.all()
    assert (row.solved, row.resolved_at) == (False, RESOLVED_AT)
    said = issue.events.get(kind=EventKind.SAID_NOT_SOLVED)
    assert said.data["message"] == message.pk
    [told] = outbox(EmailKind.CUSTOMER_MESSAGE)
    assert told.recipient == manager.email
    assert "The export still stops at 10,000 rows." in told.body_text
    assert "it is open again" in told.body_text
    [copy] = outbox(EmailKind.FEEDBACK_COPY)
    assert copy.recipient == contact.email
    assert "The export still stops at 10,000 rows." in copy.body_text
    assert "We have reopened it, and Hana Lee will answer you." in copy.body_text


def test_not_solved_needs_her_words_and_changes_nothing_without_them(issue, contact):
    with pytest.raises(ValidationError) as refused:
        feedback.not_solved(issue=issue, contact=contact, words="  \n ", now=TUESDAY)

    assert "words" in refused.value.message_dict
    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED
    assert not Feedback.objects.exists() and not OutboundEmail.objects.filter(kind=EmailKind.FEEDBACK_COPY).exists()


def test_not_solved_on_a_closed_issue_opens_a_follow_up_with_her_words(issue, contact, manager):
    services.change_status(issue=issue, status=Status.CLOSED, by=manager, now=RESOLVED_AT + timedelta(hours=1))

    landed = feedback.not_solved(issue=issue, contact=contact, words="It came back this morning.", now=TUESDAY)

    issue.refresh_from_db()
    assert landed != issue and landed.follows == issue and landed.description == "It came back this morning."
    assert issue.status == Status.CLOSED
    assert Feedback.objects.get().solved is False
    [copy] = outbox(EmailKind.FEEDBACK_COPY)
    assert "your words opened a new issue" in copy.body_text


def test_a_rating_is_recorded_and_a_second_one_replaces_it(issue, contact):
    feedback.rate(issue=issue, contact=contact, score=4, comment="Quick, thanks.", now=TUESDAY)
    feedback.rate(issue=issue, contact=contact, score="5", comment="", now=TUESDAY + timedelta(hours=1))

    [row] = Feedback.objects.all()
    assert (row.score, row.comment, row.solved) == (5, "", None)
    assert (row.created_at, row.updated_at) == (TUESDAY, TUESDAY + timedelta(hours=1))
    first, second = issue.events.filter(kind=EventKind.RATED).order_by("at")
    assert not first.public  # the team's to read, not the company's timeline
    with translation.override("en"):
        assert event_summary(first) == "Grace Hopper rated it 4 of 5: “Quick, thanks.”"
        assert event_summary(second) == "Grace Hopper changed their rating from 4 to 5 of 5"
    copies = outbox(EmailKind.FEEDBACK_COPY)
    assert [copy.subject for copy in copies] == [f"[{issue.reference}] You rated it 4 of 5: Invoices export times out",
                                                f"[{issue.reference}] You rated it 5 of 5: Invoices export times out"]
    assert not OutboundEmail.objects.filter(kind=EmailKind.LOW_RATING).exists()


def test_saying_solved_and_rating_fill_the_same_row(issue, contact):
    feedback.solved(issue=issue, contact=contact, now=TUESDAY)
    feedback.rate(issue=issue, contact=contact, score=5, now=TUESDAY + timedelta(minutes=1))

    [row] = Feedback.objects.all()
    assert (row.solved, row.score) == (True, 5)


@pytest.mark.parametrize("score", [0, 6, "", None, "five", 3.5, True])
def test_a_rating_outside_one_to_five_is_refused(issue, contact, score):
    with pytest.raises(ValidationError) as refused:
        feedback.rate(issue=issue, contact=contact, score=score, now=TUESDAY)

    assert refused.value.message_dict == {"score": ["Choose a rating from 1 to 5."]}
    assert not Feedback.objects.exists()


def test_rating_an_open_issue_is_refused_and_changes_nothing(customer, contact, manager):
    issue = make_issue(customer=customer, at=MONDAY, owner=manager, reporter=contact)
    emails_before = OutboundEmail.objects.count()

    for judge in (lambda: feedback.rate(issue=issue, contact=contact, score=5, now=TUESDAY),
                  lambda: feedback.solved(issue=issue, contact=contact, now=TUESDAY),
                  lambda: feedback.not_solved(issue=issue, contact=contact, words="Still broken", now=TUESDAY)):
        with pytest.raises(ValidationError, match="This issue is not resolved"):
            judge()

    assert not Feedback.objects.exists()
    assert OutboundEmail.objects.count() == emails_before
    assert not issue.events.filter(kind__in=[EventKind.RATED, EventKind.SAID_SOLVED, EventKind.SAID_NOT_SOLVED,
                                             EventKind.CUSTOMER_MESSAGE]).exists()


def test_a_contact_of_another_customer_is_refused(issue):
    stranger = ContactFactory(customer=CustomerFactory(team=issue.customer.team), email="eve@elsewhere.example.com")

    with pytest.raises(ValidationError, match="another customer"):
        feedback.rate(issue=issue, contact=stranger, score=1, now=TUESDAY)

    assert not Feedback.objects.exists()


def test_after_a_reopen_and_a_second_resolution_grace_may_judge_it_again(issue, contact, manager):
    feedback.rate(issue=issue, contact=contact, score=2, now=TUESDAY)
    feedback.not_solved(issue=issue, contact=contact, words="It broke again.", now=TUESDAY + timedelta(hours=1))
    with pytest.raises(ValidationError):  # open again: there is no resolution to rate
        feedback.rate(issue=issue, contact=contact, score=3, now=TUESDAY + timedelta(hours=2))
    issue.refresh_from_db()
    second_resolution = TUESDAY + timedelta(hours=5)
    services.resolve(issue=issue, by=manager, body="Raised the row limit.", now=second_resolution)

    feedback.rate(issue=issue, contact=contact, score=5, comment="Now it works.", now=TUESDAY + timedelta(hours=6))

    first, second = Feedback.objects.order_by("resolved_at")
    assert (first.resolved_at, first.score, first.solved) == (RESOLVED_AT, 2, False)
    assert (second.resolved_at, second.score, second.comment) == (second_resolution, 5, "Now it works.")


def test_the_same_form_sent_twice_records_once_and_copies_once(issue, contact):
    token = "0" * 31 + "1"
    first = feedback.rate(issue=issue, contact=contact, score=3, comment="Fine.", now=TUESDAY, token=token)
    again = feedback.rate(issue=issue, contact=contact, score=3, comment="Fine.", now=TUESDAY + timedelta(seconds=2),
                          token=token)
    feedback.solved(issue=issue, contact=contact, now=TUESDAY + timedelta(minutes=1))
    feedback.solved(issue=issue, contact=contact, now=TUESDAY + timedelta(minutes=2))  # said already: nothing new

    assert again == first
    assert issue.events.filter(kind=EventKind.RATED).count() == 1
    assert issue.events.filter(kind=EventKind.SAID_SOLVED).count() == 1
    assert len(outbox(EmailKind.FEEDBACK_COPY)) == 2  # one per word given: the rating, then "solved"


def test_not_solved_sent_twice_reopens_once(issue, contact):
    token = "a" * 32
    landed = feedback.not_solved(issue=issue, contact=contact, words="Still slow.", now=TUESDAY, token=token)
    again = feedback.not_solved(issue=issue, contact=contact, words="Still slow.", now=TUESDAY, token=token)

    assert again == landed == issue
    assert issue.events.filter(kind=EventKind.CUSTOMER_MESSAGE).count() == 1
    assert len(outbox(EmailKind.FEEDBACK_COPY)) == 1


def test_a_low_rating_tells_hana_and_jisoo_once_each(issue, contact, manager, lead):
    feedback.rate(issue=issue, contact=contact, score=1, comment="Nobody called us back for days.", now=TUESDAY)

    notices = outbox(EmailKind.LOW_RATING)
    assert sorted(notice.recipient for notice in notices) == sorted([manager.email, lead.email])
    [to_hana] = [notice for notice in notices if notice.recipient == manager.email]
    assert to_hana.subject == f"[{issue.reference}] Rated 1 of 5 by Grace Hopper: Invoices export times out"
    assert "Nobody called us back for days." in to_hana.body_text
    assert not OutboundEmail.objects.filter(kind=EmailKind.LOW_RATING, recipient=contact.email).exists()


def test_a_rating_of_three_or_more_tells_no_one_on_staff(issue, contact):
    feedback.rate(issue=issue, contact=contact, score=3, now=TUESDAY)

    assert not OutboundEmail.objects.filter(kind=EmailKind.LOW_RATING).exists()


def test_the_copy_and_the_notice_speak_each_readers_language(issue, customer, manager, lead):
    seoyeon = ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.com", language="ko",
                             follows_all_issues=True)
    Profile.objects.update_or_create(user=lead, defaults={"language": "ko"})

    feedback.rate(issue=issue, contact=seoyeon, score=2, comment="답변이 늦었습니다.", now=TUESDAY)

    [copy] = outbox(EmailKind.FEEDBACK_COPY)
    assert copy.subject == f"[{issue.reference}] 5점 만점에 2점으로 평가해 주셨습니다: Invoices export times out"
    assert "답변이 늦었습니다." in copy.body_text and "lang=\"ko\"" in copy.body_html
    [to_jisoo] = outbox(EmailKind.LOW_RATING, recipient=lead.email)
    assert to_jisoo.subject == f"[{issue.reference}] 박서연님의 평가 5점 만점에 2점: Invoices export times out"
    [to_hana] = outbox(EmailKind.LOW_RATING, recipient=manager.email)
    assert "rated how" in to_hana.body_text


def test_the_database_keeps_one_row_per_resolution_and_scores_from_one_to_five(issue, contact):
    row = feedback.rate(issue=issue, contact=contact, score=4, now=TUESDAY)

    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(issue=issue, contact=contact, resolved_at=RESOLVED_AT, score=1, created_at=TUESDAY,
                                updated_at=TUESDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.filter(pk=row.pk).update(score=6)
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.filter(pk=row.pk).update(score=None, solved=None)


def test_what_she_said_of_the_current_resolution_is_found(issue, contact):
    assert feedback.current(issue, contact) is None
    feedback.rate(issue=issue, contact=contact, score=5, now=TUESDAY)

    assert feedback.current(Issue.objects.get(pk=issue.pk), contact).score == 5
    with timezone.override(SEOUL):
        assert feedback.current(issue, contact).resolved_at == RESOLVED_AT


def test_hana_reads_graces_words_on_the_issues_timeline(client, issue, contact, manager):
    feedback.solved(issue=issue, contact=contact, now=TUESDAY)
    feedback.rate(issue=issue, contact=contact, score=2, comment="It took a week.", now=TUESDAY + timedelta(hours=1))
    client.force_login(manager)

    html = client.get(issue.get_absolute_url()).content.decode()

    assert "Grace Hopper said it is solved" in html
    assert "Grace Hopper rated it 2 of 5: “It took a week.”" in html
