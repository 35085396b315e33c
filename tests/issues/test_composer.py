"""The issue page's one composer: to the customer or an internal note, what happens after sending, one button
that says what it will do, one service call in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from issues import composer, services
from issues.models import EventKind, Issue, IssueEvent, Status, Undo
from notifications import emails
from notifications.models import OutboundEmail
from tests.factories import ContactFactory, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
HOUR = timedelta(hours=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(customer, contact, manager):
    return make_issue(customer=customer, at=T0, reporter=contact, owner=manager, title="Invoices export times out")


def written(issue: Issue) -> tuple[int, int, str]:
    fresh = Issue.objects.get(pk=issue.pk)
    return fresh.events.count(), OutboundEmail.objects.filter(issue=issue).count(), fresh.status


def test_send_and_resolve_sends_one_email_the_resolution_with_what_was_done(issue, contact, manager):
    sent = composer.send(issue=issue, body="We rebuilt the export index.", public=True, then=composer.RESOLVE,
                         by=manager, now=T0 + HOUR)

    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED and sent.undo is not None
    [email] = OutboundEmail.objects.filter(issue=issue, contact__isnull=False)
    assert email.kind == "resolved" and email.recipient == contact.email
    assert email.context["body"] == "We rebuilt the export index."
    assert not issue.events.filter(kind=EventKind.PUBLIC_UPDATE).exists()
    assert issue.events.get(kind=EventKind.RESOLVED).body == "We rebuilt the export index."


def test_a_failing_resolve_leaves_no_update_and_no_email(issue, manager, monkeypatch):
    before = written(issue)

    def relay_down(*args, **kwargs):
        raise RuntimeError("the outbox is unwritable")

    monkeypatch.setattr(emails, "resolved", relay_down)
    with pytest.raises(RuntimeError):
        composer.send(issue=issue, body="We rebuilt the export index.", public=True, then=composer.RESOLVE,
                      by=manager, now=T0 + HOUR)

    assert written(issue) == before and not Undo.objects.exists()


def test_a_move_refused_after_the_message_leaves_nothing_written(issue, manager, monkeypatch):
    before = written(issue)

    def refuse(**kwargs):
        raise ValidationError("A colleague moved it first.")

    monkeypatch.setattr(services, "change_status", refuse)
    with pytest.raises(ValidationError):
        composer.send(issue=issue, body="We are on it.", public=True, then=composer.IN_PROGRESS, by=manager,
                      now=T0 + HOUR)

    assert written(issue) == before


def test_send_and_mark_in_progress_acknowledges_with_the_message_itself(issue, contact, manager):
    composer.send(issue=issue, body="We are on it.", public=True, then=composer.IN_PROGRESS, by=manager,
                  now=T0 + HOUR)

    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS and issue.acknowledged_at == T0 + HOUR
    # The message told the customer someone is on it: no separate acknowledgement.
    assert list(OutboundEmail.objects.filter(issue=issue, contact=contact).values_list("kind", flat=True)) == [
        "public_update"]


def test_send_and_wait_asks_the_customer_and_keep_leaves_the_status(issue, manager):
    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    composer.send(issue=issue, body="Here is where we are.", public=True, by=manager, now=T0 + 2 * HOUR)
    issue.refresh_from_db()
    assert issue.status == Status.ACKNOWLEDGED

    composer.send(issue=issue, body="Could you send the log?", public=True, then=composer.WAIT, by=manager,
                  now=T0 + 3 * HOUR)
    issue.refresh_from_db()
    assert issue.status == Status.WAITING_ON_CUSTOMER and issue.update_paused_at == T0 + 3 * HOUR


def test_an_internal_note_never_reaches_the_customer_nor_moves_the_status(issue, manager):
    sent = composer.send(issue=issue, body="Their DBA is away until Monday.", public=False, by=manager,
                         now=T0 + HOUR)

    assert not sent.event.public and sent.event.kind == EventKind.INTERNAL_NOTE
    assert not OutboundEmail.objects.filter(issue=issue, contact__isnull=False).exists()
    for then in (composer.WAIT, composer.RESOLVE):
        with pytest.raises(ValidationError, match="An internal note never reaches the customer"):
            composer.send(issue=issue, body="Resolve it quietly.", public=False, then=then, by=manager,
                          now=T0 + 2 * HOUR)
    issue.refresh_from_db()
    assert issue.status == Status.NEW


def test_resolving_with_a_promise_is_refused(issue, manager):
    with pytest.raises(ValidationError, match="needs no promise"):
        composer.send(issue=issue, body="Done.", public=True, then=composer.RESOLVE, by=manager, now=T0 + HOUR,
                      promised_update_at=T0 + 5 * HOUR)
    issue.refresh_from_db()
    assert issue.is_open


def test_the_same_form_sent_twice_writes_and_emails_once(issue, manager):
    for then in (composer.KEEP, composer.KEEP):
        composer.send(issue=issue, body="We are on it.", public=True, then=then, by=manager, now=T0 + HOUR,
                      token="b" * 32)

    assert issue.events.filter(kind=EventKind.PUBLIC_UPDATE).count() == 1
    assert OutboundEmail.objects.filter(issue=issue, kind="public_update").count() == 1


@pytest.mark.parametrize(("status", "receivers", "offered"), [
    (Status.NEW, 2, ["keep", "in_progress", "wait", "resolve"]),
    (Status.IN_PROGRESS, 1, ["keep", "wait", "resolve"]),
    (Status.WAITING_ON_CUSTOMER, 1, ["in_progress", "wait", "resolve"]),
    (Status.ACKNOWLEDGED, 0, ["keep", "in_progress", "resolve"]),
    (Status.RESOLVED, 1, ["keep"]),
])
def test_the_composer_offers_only_the_moves_the_status_allows(status, receivers, offered):
    issue = Issue(status=status)

    moves = composer.moves(issue, receivers=receivers)

    assert [move.value for move in moves] == offered


def test_the_button_says_what_it_will_do():
    buttons = {move.value: move.button for move in composer.moves(Issue(status=Status.NEW), receivers=2)}

    assert buttons == {"keep": "Send to 2 contacts", "in_progress": "Send and mark in progress",
                       "wait": "Send and wait for their answer", "resolve": "Send and resolve"}
    assert composer.moves(Issue(status=Status.NEW), receivers=0)[0].button == "Post it (nobody is emailed)"


# --- on the page ----------------------------------------------------------------------------------


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def test_the_page_has_one_composer_whose_button_says_what_it_will_do(hana, issue, customer):
    ContactFactory(customer=customer, name="Ada", email="ada@acme.example.com", follows_all_issues=True)

    html = hana.get(issue.get_absolute_url()).content.decode()

    assert html.count("data-composer") == 1 and html.count('class="btn btn-primary compose-send"') == 1
    assert ">Send to 2 contacts</button>" in html
    assert 'data-note="Add internal note"' in html and 'data-button="Send and resolve"' in html
    assert reverse("issue_note", kwargs={"pk": issue.pk}) not in html  # no second form for notes
    assert reverse("issue_resolve", kwargs={"pk": issue.pk}) not in html  # nor a second body for resolving


def test_resolve_in_the_triage_card_opens_the_composer_on_send_and_resolve(hana, issue):
    html = hana.get(issue.get_absolute_url()).content.decode()
    assert f'href="{issue.get_absolute_url()}?then=resolve#compose"' in html

    response = hana.get(issue.get_absolute_url(), {"then": "resolve"})

    form = response.context["compose_form"]
    assert form.chosen == ("public", "resolve") and form.button == "Send and resolve"
    assert ">Send and resolve</button>" in response.content.decode()


def test_sending_a_note_from_the_composer_ignores_the_customers_choices(hana, issue):
    response = hana.post(reverse("issue_compose", kwargs={"pk": issue.pk}), {
        "compose-audience": "internal", "compose-body": "Their DBA is away.", "compose-then": "resolve",
        "compose-promised_update_at": "2099-01-01T10:00"}, follow=True)

    assert "Internal note added." in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == Status.NEW and issue.promised_update_at is None
    assert IssueEvent.objects.get(issue=issue, kind=EventKind.INTERNAL_NOTE).body == "Their DBA is away."


def test_a_refused_send_and_resolve_keeps_the_text_and_the_choice(hana, issue):
    response = hana.post(reverse("issue_compose", kwargs={"pk": issue.pk}), {
        "compose-audience": "public", "compose-body": "Fixed.", "compose-then": "resolve",
        "compose-promised_update_at": "2099-01-01T10:00"})

    assert response.status_code == 400
    form = response.context["compose_form"]
    assert "needs no promise" in form.errors["promised_update_at"][0]
    assert form["body"].value() == "Fixed." and form.button == "Send and resolve"
    issue.refresh_from_db()
    assert issue.is_open


def test_send_and_resolve_from_the_page_says_the_email_waits_and_offers_an_undo(hana, issue):
    response = hana.post(reverse("issue_compose", kwargs={"pk": issue.pk}), {
        "compose-audience": "public", "compose-body": "We rebuilt the export index.", "compose-then": "resolve"},
        follow=True)

    html = response.content.decode()
    assert "Resolved: in a few seconds the customer is told what was done." in html
    assert f'action="/undo/{Undo.objects.get().pk}/"' in html
