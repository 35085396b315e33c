"""Twice is once, and a stale form is refused.

A double click or a browser's retry after a timeout sends the same form again: it records once and
emails once. A triage form built on an older state of the issue (the severity, status or owner a
colleague changed since the page was loaded) is refused with who changed what and when.
"""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issues import services
from issues.models import EventKind, Issue, IssueEvent
from notifications.models import OutboundEmail
from tests.factories import make_issue
from tests.issues.views_helpers import ago, htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def daniel(colleague):
    client = Client()
    client.force_login(colleague)
    return client


@pytest.fixture
def issue(customer, contact, manager):
    return make_issue(customer=customer, at=ago(minutes=30), severity="blue", title="Invoices are missing",
                      reporter=contact, owner=manager)


def url(name: str, issue) -> str:
    return reverse(name, kwargs={"pk": issue.pk})


def hidden(html: str, name: str) -> str:
    """The value of a hidden input as the page rendered it."""
    match = re.search(rf'<input type="hidden" name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no hidden {name} on the page"
    return match.group(1)


# --- the same form sent twice ----------------------------------------------------------------------


def composed(page: str, body: str, **choices: str) -> dict:
    """The composer as the page showed it (its one-time token), with a text and its choices."""
    return {"compose-body": body, "compose-token": hidden(page, "compose-token"),
            "compose-audience": choices.get("audience", "public"), "compose-then": choices.get("then", "keep")}


def test_a_public_update_sent_twice_is_on_the_timeline_once_and_emailed_once(hana, issue):
    page = hana.get(issue.get_absolute_url()).content.decode()
    form = composed(page, "We found the missing invoices.")

    first = hana.post(url("issue_compose", issue), form)
    again = hana.post(url("issue_compose", issue), form)  # the double click

    assert first.status_code == again.status_code == 302
    assert again["Location"] == issue.get_absolute_url()
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.PUBLIC_UPDATE).count() == 1
    assert OutboundEmail.objects.filter(issue=issue, kind="public_update").count() == 1


def test_each_showing_of_the_form_has_its_own_token_so_two_real_updates_are_two(hana, issue):
    for text in ("First news.", "Second news."):
        page = hana.get(issue.get_absolute_url()).content.decode()
        hana.post(url("issue_compose", issue), composed(page, text))

    bodies = IssueEvent.objects.filter(issue=issue, kind=EventKind.PUBLIC_UPDATE).values_list("body", flat=True)
    assert sorted(bodies) == ["First news.", "Second news."]


def test_an_htmx_retry_of_a_note_gets_the_page_back_and_writes_one_note(hana, issue):
    page = hana.get(issue.get_absolute_url()).content.decode()
    form = composed(page, "Called their IT.", audience="internal")

    responses = [hana.post(url("issue_compose", issue), form, **htmx()) for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.INTERNAL_NOTE).count() == 1


def test_send_and_resolve_sent_twice_resolves_once_and_emails_once(hana, issue):
    page = hana.get(issue.get_absolute_url()).content.decode()
    form = composed(page, "Re-sent the missing invoices.", then="resolve")

    first = hana.post(url("issue_compose", issue), form)
    again = hana.post(url("issue_compose", issue), form)

    assert first.status_code == again.status_code == 302
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.RESOLVED).count() == 1
    assert OutboundEmail.objects.filter(issue=issue, kind="resolved").count() == 1


def test_a_refused_update_keeps_its_token_so_the_corrected_one_records_once(hana, issue):
    page = hana.get(issue.get_absolute_url()).content.decode()
    token = hidden(page, "compose-token")

    refused = hana.post(url("issue_compose", issue), {"compose-body": "   ", "compose-token": token})
    assert refused.status_code == 400
    assert hidden(refused.content.decode(), "compose-token") == token  # the form, as typed, comes back

    for _ in range(2):
        hana.post(url("issue_compose", issue), {"compose-body": "Now with words.", "compose-token": token,
                                                "compose-audience": "public"})
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.PUBLIC_UPDATE).count() == 1


def test_the_new_issue_form_sent_twice_opens_one_issue_and_both_answers_lead_to_it(hana, customer, contact):
    page = hana.get(reverse("issue_new")).content.decode()
    form = {"customer": customer.pk, "reporter": contact.pk, "title": "Portal down", "severity": "orange",
            "token": hidden(page, "token")}

    first = hana.post(reverse("issue_new"), form)
    again = hana.post(reverse("issue_new"), form)

    issue = Issue.objects.get(title="Portal down")
    assert first["Location"] == again["Location"] == issue.get_absolute_url()
    assert Issue.objects.filter(customer=customer).count() == 1
    assert OutboundEmail.objects.filter(issue=issue).count() == OutboundEmail.objects.count()


def test_a_token_is_only_its_authors(issue, manager, colleague):
    services.post_update(issue=issue, body="From Hana.", public=False, by=manager, token="a" * 32)
    services.post_update(issue=issue, body="From Daniel.", public=False, by=colleague, token="a" * 32)

    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.INTERNAL_NOTE).count() == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.one_of(st.text(max_size=120), st.just("A" * 32), st.just("0" * 33)))
def test_a_forged_token_is_no_token_never_an_error(hana, issue, token):
    before = IssueEvent.objects.filter(issue=issue, kind=EventKind.INTERNAL_NOTE).count()

    response = hana.post(url("issue_note", issue), {"note-body": "A note.", "note-token": token})

    assert response.status_code == 302
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.INTERNAL_NOTE).count() == before + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sendings_racing_each_other_record_once(customer, contact, manager):
    issue = make_issue(customer=customer, at=ago(minutes=5), reporter=contact, owner=manager)
    start, results, errors = threading.Barrier(4), [], []

    def send() -> None:
        try:
            start.wait()
            results.append(services.post_update(issue=Issue.objects.get(pk=issue.pk), body="Same click.",
                                                 public=True, by=manager, token="b" * 32).pk)
        except Exception as error:  # noqa: BLE001 - the test reports any error below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == [] and len(results) == 4
    assert len(set(results)) == 1  # every sending got the one event back
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.PUBLIC_UPDATE).count() == 1
    assert OutboundEmail.objects.filter(issue=issue, kind="public_update").count() == 1


# --- a form built on an older state -----------------------------------------------------------------


def test_a_severity_form_from_before_a_colleagues_change_is_refused_with_who_and_when(hana, daniel, issue):
    hanas_page = hana.get(issue.get_absolute_url()).content.decode()
    assert hidden(hanas_page, "severity-seen") == "blue"
    daniels_page = daniel.get(issue.get_absolute_url()).content.decode()
    daniel.post(url("issue_severity", issue), {"severity-severity": "red",
                                               "severity-seen": hidden(daniels_page, "severity-seen")})

    response = hana.post(url("issue_severity", issue), {"severity-severity": "green",
                                                        "severity-seen": hidden(hanas_page, "severity-seen")})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Daniel Cho changed the severity to “Red”" in html and "Reload to see it" in html
    issue.refresh_from_db()
    assert issue.severity == "red"
    # The page now shows red; sending the form again is a knowing choice and goes through.
    assert hidden(html, "severity-seen") == "red"
    hana.post(url("issue_severity", issue), {"severity-severity": "green", "severity-seen": "red"})
    issue.refresh_from_db()
    assert issue.severity == "green"


def test_a_status_form_from_before_a_colleagues_change_is_refused(hana, daniel, issue, colleague):
    page = hana.get(issue.get_absolute_url()).content.decode()
    services.change_status(issue=issue, status="in_progress", by=colleague)

    response = hana.post(url("issue_status", issue), {"status-status": "acknowledged",
                                                      "status-seen": hidden(page, "status-seen")})

    assert response.status_code == 400
    assert "Daniel Cho changed the status to “In progress”" in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == "in_progress"


def test_an_owner_form_from_before_a_colleagues_change_is_refused(hana, issue, colleague, lead):
    page = hana.get(issue.get_absolute_url()).content.decode()
    services.assign(issue=issue, owner=colleague, by=lead)

    response = hana.post(url("issue_assign", issue), {"assign-owner": lead.pk,
                                                      "assign-seen": hidden(page, "assign-seen")})

    assert response.status_code == 400
    assert "Jisoo Kim gave the issue to Daniel Cho" in response.content.decode()
    issue.refresh_from_db()
    assert issue.owner == colleague


def test_the_same_choice_as_the_colleague_is_no_conflict(hana, issue, colleague):
    page = hana.get(issue.get_absolute_url()).content.decode()
    services.change_severity(issue=issue, severity="orange", by=colleague)

    response = hana.post(url("issue_severity", issue), {"severity-severity": "orange",
                                                        "severity-seen": hidden(page, "severity-seen")})

    assert response.status_code == 302


def test_a_form_without_the_seen_field_changes_as_before(hana, issue):
    response = hana.post(url("issue_severity", issue), {"severity-severity": "orange"})

    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.severity == "orange"
