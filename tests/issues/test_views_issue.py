"""The issue page: read the story, then act on it. Every form calls one service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from issues import services
from issues.models import IssueEvent
from tests.factories import UserFactory, make_issue
from tests.issues.views_helpers import ago, htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def issue(customer, contact, manager):
    return make_issue(customer=customer, at=ago(minutes=30), severity="orange", title="Tracking page is blank",
                      reporter=contact, owner=manager, description="Since this morning.")


def url(name: str, issue) -> str:
    return reverse(name, kwargs={"pk": issue.pk})


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_the_page_shows_who_what_and_both_clocks(hana, issue):
    html = hana.get(issue.get_absolute_url()).content.decode()

    assert f"ACME-{issue.pk}" in html and "Tracking page is blank" in html
    assert "Acme Logistics" in html and "Grace Hopper" in html and "Hana Lee" in html
    assert "Orange" in html and "New" in html
    assert "Acknowledge" in html and "Update the customer" in html
    due = timezone.localtime(issue.ack_due_at).strftime("%Y-%m-%d %H:%M")
    assert due in html
    assert "no promise" in html


def test_the_timeline_tells_public_entries_from_internal_notes_and_keeps_system_lines_short(hana, issue, manager):
    services.post_update(issue=issue, body="We are on it.", public=True, by=manager)
    services.post_update(issue=issue, body="Ops says it's the CDN.", public=False, by=manager)

    html = hana.get(issue.get_absolute_url()).content.decode()

    assert "Public · the customer sees this" in html and "We are on it." in html
    assert "Internal note · team only" in html and "Ops says it&#x27;s the CDN." in html
    assert 'class="entry-compact small system' in html and "Update clock started, due" in html
    assert html.index("Ops says") < html.index("We are on it.")  # newest first


def test_the_at_risk_email_link_opens_the_composer_focused_with_a_draft_in_the_customers_language(
        hana, issue, customer):
    customer.language = "ko"
    customer.save()

    response = hana.get(issue.get_absolute_url(), {"compose": "update"})

    form = response.context["compose_form"]
    assert form.chosen == ("public", "keep")
    with translation.override("ko"):
        expected = translation.gettext("Here is an update on “%(title)s”: ") % {"title": issue.title}
    assert form.initial["body"] == expected
    assert "autofocus" in str(form["body"])
    assert 'data-compose="true"' in str(form["body"])


def test_acknowledging_redirects_back_to_the_page_with_the_news_and_an_undo(hana, issue):
    response = hana.post(url("issue_acknowledge", issue), follow=True)

    assert response.redirect_chain == [(issue.get_absolute_url(), 302)]
    html = response.content.decode()
    assert "Acknowledged: in a few seconds the customer is told who owns the issue." in html
    assert 'class="undo ' in html and ">Undo <" in html
    issue.refresh_from_db()
    assert issue.acknowledged_at is not None and issue.status == "acknowledged"


def test_acknowledging_twice_explains_why_not(hana, issue, manager):
    services.acknowledge(issue=issue, by=manager)

    response = hana.post(url("issue_acknowledge", issue))

    assert response.status_code == 400


def test_a_public_update_with_a_promise_lands_on_the_timeline_and_moves_the_clock(hana, issue):
    promise = timezone.now() + timedelta(hours=20)

    response = hana.post(url("issue_update", issue), {
        "update-body": "We found the cause.", "update-promised_update_at": local_input(promise)})

    assert response.status_code == 302
    event = IssueEvent.objects.get(kind="public_update")
    assert event.body == "We found the cause." and event.public
    issue.refresh_from_db()
    assert issue.promised_update_at == promise.replace(second=0, microsecond=0)
    assert "Next update promised by" in hana.get(issue.get_absolute_url()).content.decode()


def test_an_empty_update_shows_the_error_next_to_the_field_and_keeps_the_promise_typed(hana, issue):
    promise = local_input(timezone.now() + timedelta(hours=20))

    response = hana.post(url("issue_update", issue), {"update-body": "  ", "update-promised_update_at": promise})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Write the update the customer will read." in html
    assert f'value="{promise}"' in html
    assert not IssueEvent.objects.filter(kind="public_update").exists()


def test_a_promise_beyond_the_policy_is_refused_and_the_text_is_kept(hana, issue):
    response = hana.post(url("issue_update", issue), {
        "update-body": "Next week, promise.",
        "update-promised_update_at": local_input(timezone.now() + timedelta(days=9))})

    html = response.content.decode()
    assert response.status_code == 400
    assert "at the latest" in html and "Next week, promise." in html


def test_an_htmx_update_gets_the_page_body_back_not_a_redirect(hana, issue):
    response = hana.post(url("issue_update", issue), {"update-body": "On it."}, **htmx(hx_target="issue-page"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="issue-page"' in html and "On it." in html and "<html" not in html


def test_an_htmx_update_with_an_error_answers_400_with_the_form(hana, issue):
    response = hana.post(url("issue_update", issue), {"update-body": ""}, **htmx(hx_target="issue-page"))

    assert response.status_code == 400
    assert "Write the update the customer will read." in response.content.decode()


def test_an_internal_note_never_goes_public(hana, issue):
    hana.post(url("issue_note", issue), {"note-body": "Call them after lunch."})

    note = IssueEvent.objects.get(kind="internal_note")
    assert not note.public and note.body == "Call them after lunch."


def test_an_empty_note_is_refused(hana, issue):
    response = hana.post(url("issue_note", issue), {"note-body": ""})

    assert response.status_code == 400
    assert "Write the note." in response.content.decode()


def test_assigning_to_a_colleague_and_refusing_someone_outside_the_team(hana, issue, colleague, outsider):
    assert hana.post(url("issue_assign", issue), {"assign-owner": colleague.pk}).status_code == 302
    issue.refresh_from_db()
    assert issue.owner == colleague

    response = hana.post(url("issue_assign", issue), {"assign-owner": outsider.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_changing_severity_and_refusing_an_unknown_one(hana, issue):
    assert hana.post(url("issue_severity", issue), {"severity-severity": "red"}).status_code == 302
    issue.refresh_from_db()
    assert issue.severity == "red"

    assert hana.post(url("issue_severity", issue), {"severity-severity": "purple"}).status_code == 400


def test_changing_status_offers_only_the_moves_the_workflow_allows(hana, issue):
    page = hana.get(issue.get_absolute_url()).content.decode()
    assert 'value="waiting_on_customer"' not in page  # waiting is "Send and wait", with a message

    assert hana.post(url("issue_status", issue), {"status-status": "waiting_on_customer"}).status_code == 400
    assert hana.post(url("issue_status", issue), {"status-status": "in_progress"}).status_code == 302
    issue.refresh_from_db()
    assert issue.status == "in_progress"
    assert hana.post(url("issue_status", issue), {"status-status": "closed"}).status_code == 400


def test_send_and_wait_asks_the_customer_and_pauses_the_update_clock(hana, issue, contact):
    response = hana.post(url("issue_update", issue), {"update-body": "Could you send us the export log?",
                                                      "update-wait": "true"}, follow=True)

    issue.refresh_from_db()
    assert issue.status == "waiting_on_customer" and issue.update_paused_at is not None
    assert issue.waiting_remind_at is not None and issue.waiting_ends_at is not None
    html = response.content.decode()
    assert "Sent: the issue waits for the customer&#x27;s answer." in html
    assert "Waiting on the customer" in html and "clock runs again" in html
    # A plain update afterwards means we go on without their answer.
    hana.post(url("issue_update", issue), {"update-body": "We found it ourselves."})
    issue.refresh_from_db()
    assert issue.status == "in_progress" and issue.update_paused_at is None and issue.waiting_ends_at is None


def test_send_and_wait_without_anyone_to_answer_is_refused_and_keeps_the_text(hana, issue, contact):
    contact.receives_updates = False  # the only contact muted updates
    contact.save()

    response = hana.post(url("issue_update", issue), {"update-body": "Could you send us the export log?",
                                                      "update-wait": "true"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "so nobody could answer" in html and "Could you send us the export log?" in html
    issue.refresh_from_db()
    assert issue.status != "waiting_on_customer"


def test_resolving_then_reopening(hana, issue):
    hana.post(url("issue_resolve", issue), {"resolve-body": "Cache purged."})
    issue.refresh_from_db()
    assert issue.status == "resolved"
    assert IssueEvent.objects.get(kind="resolved").body == "Cache purged."

    hana.post(url("issue_reopen", issue))
    issue.refresh_from_db()
    assert issue.status == "new" and issue.ack_due_at is not None


def test_resolving_a_resolved_issue_or_reopening_an_open_one_is_refused(hana, issue, manager):
    assert hana.post(url("issue_reopen", issue)).status_code == 400
    services.resolve(issue=issue, by=manager, body="Fixed.")
    response = hana.post(url("issue_resolve", issue), {"resolve-body": ""})
    assert response.status_code == 400


def test_actions_only_accept_post(hana, issue):
    for name in ("issue_update", "issue_note", "issue_acknowledge", "issue_assign", "issue_severity",
                 "issue_status", "issue_resolve", "issue_reopen"):
        assert hana.get(url(name, issue)).status_code == 405


def test_actions_need_the_csrf_token(manager, issue):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    assert client.post(url("issue_acknowledge", issue)).status_code == 403
    issue.refresh_from_db()
    assert issue.acknowledged_at is None


@pytest.mark.parametrize("entries", [10, 200])
def test_the_issue_page_runs_a_fixed_number_of_queries_however_long_the_timeline(
        hana, issue, entries, django_assert_max_num_queries):
    author = UserFactory(username="writer")
    IssueEvent.objects.bulk_create([
        IssueEvent(issue=issue, kind="internal_note", actor=author, at=timezone.now(), body=f"Note {n}")
        for n in range(entries)
    ])

    with django_assert_max_num_queries(7):
        response = hana.get(issue.get_absolute_url())

    assert response.status_code == 200
    assert "Note 0" in response.content.decode()
