"""The domain API, told as the account manager's day. Time is always passed in."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict

from issues import services
from issues.models import Breach, Clock, EventKind, Issue, IssueEvent, Status
from tests.factories import ContactFactory, CustomerFactory, make_issue, wait_on_customer

SEOUL = ZoneInfo("Asia/Seoul")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

pytestmark = pytest.mark.django_db


def kinds(issue: Issue) -> list[str]:
    return list(issue.events.values_list("kind", flat=True))


def snapshot(issue: Issue) -> tuple[dict, int]:
    fresh = Issue.objects.get(pk=issue.pk)
    return model_to_dict(fresh), fresh.events.count()


def assert_unchanged(issue: Issue, before: tuple[dict, int]) -> None:
    assert snapshot(issue) == before


# --- open_issue ---------------------------------------------------------------------------------


def test_opening_an_issue_starts_the_acknowledge_clock_and_tells_the_customer_it_exists(customer, contact, manager):
    issue = services.open_issue(customer=customer, title="  Invoices   export times out ", severity="orange",
                                reporter=contact, owner=manager, by=manager, now=T0)

    assert issue.title == "Invoices export times out"
    assert issue.status == Status.NEW
    assert issue.reference == f"ACME-{issue.pk}"
    assert issue.ack_due_at == T0 + 4 * HOUR
    assert issue.ack_at_risk_at == T0 + 3 * HOUR
    assert issue.update_due_at is None
    assert kinds(issue) == [EventKind.CREATED, EventKind.CLOCK_STARTED, EventKind.ASSIGNED]
    created, clock, assigned = issue.events.all()
    assert created.public and created.actor == manager
    assert not clock.public and clock.data["clock"] == Clock.ACKNOWLEDGE
    assert not assigned.public and assigned.new_value == "Hana Lee"


def test_an_issue_may_be_opened_without_an_owner_until_it_is_triaged(customer, manager):
    issue = services.open_issue(customer=customer, title="Cannot log in", by=manager, now=T0)

    assert issue.owner is None
    assert issue.severity == "blue"
    assert issue.ack_due_at == T0 + DAY  # no business calendar: one day around the clock


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"severity": "purple"}, "severity"),
    ],
)
def test_opening_with_bad_input_is_refused_and_writes_nothing(customer, manager, changes, field):
    arguments = {"customer": customer, "title": "Cannot log in", "by": manager, "now": T0, **changes}

    with pytest.raises(ValidationError) as refused:
        services.open_issue(**arguments)

    assert field in refused.value.message_dict
    assert not Issue.objects.exists()
    assert not IssueEvent.objects.exists()


def test_an_owner_outside_the_customers_team_is_refused(customer, manager, outsider):
    with pytest.raises(ValidationError) as refused:
        services.open_issue(customer=customer, title="Cannot log in", owner=outsider, by=manager, now=T0)

    assert "Olga Other is not in Enterprise Support" in refused.value.message_dict["owner"][0]
    assert not Issue.objects.exists()


def test_a_reporter_of_another_customer_is_refused(customer, manager):
    stranger = ContactFactory(customer=CustomerFactory(team=customer.team))

    with pytest.raises(ValidationError) as refused:
        services.open_issue(customer=customer, title="Cannot log in", reporter=stranger, by=manager, now=T0)

    assert "reporter" in refused.value.message_dict


# --- acknowledge ----------------------------------------------------------------------------------


def test_acknowledging_stops_the_first_clock_starts_the_second_and_takes_ownership(customer, contact, colleague):
    issue = make_issue(customer=customer, at=T0, severity="red")

    services.acknowledge(issue=issue, by=colleague, now=T0 + 20 * timedelta(minutes=1))

    issue.refresh_from_db()
    acknowledged_at = T0 + 20 * timedelta(minutes=1)
    assert issue.status == Status.ACKNOWLEDGED
    assert issue.owner == colleague
    assert issue.acknowledged_at == acknowledged_at
    assert issue.ack_due_at is None
    assert issue.update_due_at == acknowledged_at + DAY
    assert issue.customer_last_heard_at == acknowledged_at
    events = {event.kind: event for event in issue.events.all()}
    assert events[EventKind.ACKNOWLEDGED].public
    assert events[EventKind.ASSIGNED].new_value == "Daniel Cho"
    assert [e.new_value for e in issue.events.filter(kind__in=[EventKind.CLOCK_STOPPED, EventKind.CLOCK_STARTED])
            .order_by("id")] == [Clock.ACKNOWLEDGE, Clock.ACKNOWLEDGE, Clock.UPDATE]


def test_acknowledging_keeps_an_existing_owner(customer, manager, colleague):
    issue = make_issue(customer=customer, at=T0, owner=manager)

    services.acknowledge(issue=issue, by=colleague, now=T0 + HOUR)

    assert Issue.objects.get(pk=issue.pk).owner == manager


def test_acknowledging_twice_is_refused(customer, manager):
    issue = make_issue(customer=customer, at=T0)
    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)
    before = snapshot(issue)

    with pytest.raises(ValidationError, match="already acknowledged"):
        services.acknowledge(issue=issue, by=manager, now=T0 + 2 * HOUR)

    assert_unchanged(issue, before)


def test_acknowledging_clears_an_open_acknowledge_breach(customer, manager):
    issue = make_issue(customer=customer, at=T0, severity="red")
    Breach.objects.create(issue=issue, clock=Clock.ACKNOWLEDGE, severity="red", cycle_started_at=T0,
                          due_at=T0 + HOUR, breached_at=T0 + HOUR)

    services.acknowledge(issue=issue, by=manager, now=T0 + 3 * HOUR)

    assert Breach.objects.get(issue=issue).cleared_at == T0 + 3 * HOUR
    assert issue.events.filter(kind=EventKind.BREACH_CLEARED, new_value=Clock.ACKNOWLEDGE).count() == 1


# --- assign ---------------------------------------------------------------------------------------


def test_assigning_gives_the_issue_a_new_owner_with_an_internal_event(customer, manager, colleague):
    issue = make_issue(customer=customer, at=T0, owner=manager)

    services.assign(issue=issue, owner=colleague, by=manager, now=T0 + HOUR)

    event = issue.events.get(kind=EventKind.ASSIGNED, old_value="Hana Lee")
    assert Issue.objects.get(pk=issue.pk).owner == colleague
    assert event.new_value == "Daniel Cho" and not event.public


def test_the_team_lead_may_own_an_issue(customer, manager, lead):
    issue = make_issue(customer=customer, at=T0)

    services.assign(issue=issue, owner=lead, by=manager, now=T0 + HOUR)

    assert Issue.objects.get(pk=issue.pk).owner == lead


def test_assigning_the_current_owner_again_changes_nothing(customer, manager):
    issue = make_issue(customer=customer, at=T0, owner=manager)
    before = snapshot(issue)

    services.assign(issue=issue, owner=manager, by=manager, now=T0 + HOUR)

    assert_unchanged(issue, before)


def test_assigning_someone_outside_the_team_is_refused(customer, manager, outsider):
    issue = make_issue(customer=customer, at=T0, owner=manager)
    before = snapshot(issue)

    with pytest.raises(ValidationError) as refused:
        services.assign(issue=issue, owner=outsider, by=manager, now=T0 + HOUR)

    assert "owner" in refused.value.message_dict
    assert_unchanged(issue, before)


def test_assigning_a_deactivated_colleague_is_refused(customer, manager, colleague):
    issue = make_issue(customer=customer, at=T0, owner=manager)
    colleague.is_active = False
    colleague.save()

    with pytest.raises(ValidationError):
        services.assign(issue=issue, owner=colleague, by=manager, now=T0 + HOUR)


# --- change_severity ------------------------------------------------------------------------------


def test_raising_the_severity_recomputes_the_clocks_from_their_start(customer, manager):
    issue = make_issue(customer=customer, at=T0, severity="blue")

    services.change_severity(issue=issue, severity="red", by=manager, now=T0 + 30 * timedelta(minutes=1))

    issue.refresh_from_db()
    assert issue.ack_due_at == T0 + HOUR
    event = issue.events.get(kind=EventKind.SEVERITY_CHANGED)
    assert (event.old_value, event.new_value, event.public) == ("blue", "red", False)
    assert issue.events.filter(kind=EventKind.CLOCK_RESCHEDULED).count() == 1


def test_a_severity_raised_on_an_old_issue_is_due_at_once(customer, manager):
    issue = make_issue(customer=customer, at=T0, severity="green")

    services.change_severity(issue=issue, severity="red", by=manager, now=T0 + 5 * HOUR)

    assert Issue.objects.ack_overdue(T0 + 5 * HOUR).filter(pk=issue.pk).exists()


def test_an_unknown_severity_is_refused(customer, manager):
    issue = make_issue(customer=customer, at=T0)
    before = snapshot(issue)

    with pytest.raises(ValidationError, match="purple"):
        services.change_severity(issue=issue, severity="purple", by=manager, now=T0)

    assert_unchanged(issue, before)


# --- change_status --------------------------------------------------------------------------------


def test_starting_work_on_a_new_issue_acknowledges_it(customer, manager):
    issue = make_issue(customer=customer, at=T0)

    services.change_status(issue=issue, status=Status.IN_PROGRESS, by=manager, now=T0 + HOUR)

    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS
    assert issue.acknowledged_at == T0 + HOUR
    status_event = issue.events.get(kind=EventKind.STATUS_CHANGED)
    assert (status_event.old_value, status_event.new_value, status_event.public) == (
        Status.ACKNOWLEDGED, Status.IN_PROGRESS, True)


def test_asking_the_customer_pauses_the_update_clock_and_their_answer_gets_a_whole_window(customer, manager):
    issue = make_issue(customer=customer, at=T0, severity="red")
    services.acknowledge(issue=issue, by=manager, now=T0)  # update due T0 + 1 day

    wait_on_customer(issue, by=manager, now=T0 + 6 * HOUR)  # the question is news: a new cycle, paused at once
    issue.refresh_from_db()
    assert issue.update_due_at is None and issue.update_paused_at == T0 + 6 * HOUR
    assert issue.status == Status.WAITING_ON_CUSTOMER

    services.change_status(issue=issue, status=Status.IN_PROGRESS, by=manager, now=T0 + 3 * DAY)
    issue.refresh_from_db()
    assert issue.update_paused_at is None
    assert issue.update_due_at == T0 + 3 * DAY + DAY
    paused, resumed = issue.events.filter(kind__in=[EventKind.CLOCK_PAUSED, EventKind.CLOCK_RESUMED])
    assert (paused.kind, paused.actor, paused.at) == (EventKind.CLOCK_PAUSED, manager, T0 + 6 * HOUR)
    assert resumed.kind == EventKind.CLOCK_RESUMED
    assert datetime.fromisoformat(resumed.data["due_at"]) == T0 + 3 * DAY + DAY


def test_a_resolved_issue_can_be_closed_but_a_closed_one_cannot_move(customer, manager):
    issue = make_issue(customer=customer, at=T0)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=T0 + HOUR)

    services.change_status(issue=issue, status=Status.CLOSED, by=manager, now=T0 + 2 * HOUR)
    issue.refresh_from_db()
    assert (issue.status, issue.closed_at) == (Status.CLOSED, T0 + 2 * HOUR)

    before = snapshot(issue)
    with pytest.raises(ValidationError, match="cannot move"):
        services.change_status(issue=issue, status=Status.IN_PROGRESS, by=manager, now=T0 + 3 * HOUR)
    assert_unchanged(issue, before)


@pytest.mark.parametrize("status", ["new", "closed", "on_fire"])
def test_impossible_moves_from_an_open_issue_are_refused(customer, manager, status):
    issue = make_issue(customer=customer, at=T0)
    services.acknowledge(issue=issue, by=manager, now=T0)
    before = snapshot(issue)

    with pytest.raises(ValidationError) as refused:
        services.change_status(issue=issue, status=status, by=manager, now=T0 + HOUR)

    assert "status" in refused.value.message_dict
    assert_unchanged(issue, before)


# --- post_update ----------------------------------------------------------------------------------


def test_a_public_update_restarts_the_update_clock_and_keeps_the_promise(customer, contact, manager):
    issue = make_issue(customer=customer, at=T0, severity="orange")
    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)
    promise = T0 + DAY

    event = services.post_update(issue=issue, body="We found the cause.", public=True, by=manager,
                                 promised_update_at=promise, now=T0 + 5 * HOUR)

    issue.refresh_from_db()
    assert event.public and event.kind == EventKind.PUBLIC_UPDATE and event.body == "We found the cause."
    assert issue.update_started_at == T0 + 5 * HOUR
    assert issue.last_public_update_at == T0 + 5 * HOUR
    assert issue.promised_update_at == promise
    assert issue.update_due_at == promise


def test_the_first_public_update_acknowledges_a_new_issue(customer, contact, manager):
    issue = make_issue(customer=customer, at=T0)

    services.post_update(issue=issue, body="Looking at it now.", public=True, by=manager, now=T0 + HOUR)

    issue.refresh_from_db()
    assert issue.status == Status.ACKNOWLEDGED
    assert issue.acknowledged_at == T0 + HOUR
    assert issue.ack_due_at is None


def test_an_internal_note_is_never_public_and_leaves_the_clocks_alone(customer, manager):
    issue = make_issue(customer=customer, at=T0)
    ack_due = issue.ack_due_at

    note = services.post_update(issue=issue, body="Customer is on the legacy plan.", public=False, by=manager,
                                now=T0 + HOUR)

    issue.refresh_from_db()
    assert note.kind == EventKind.INTERNAL_NOTE and not note.public
    assert issue.acknowledged_at is None and issue.ack_due_at == ack_due
    assert issue.last_public_update_at is None


def test_a_public_update_clears_the_open_update_breach(customer, contact, manager):
    issue = make_issue(customer=customer, at=T0, severity="red")
    services.acknowledge(issue=issue, by=manager, now=T0)
    Breach.objects.create(issue=issue, clock=Clock.UPDATE, severity="red", cycle_started_at=T0,
                          due_at=T0 + DAY, breached_at=T0 + DAY)

    services.post_update(issue=issue, body="Still on it.", public=True, by=manager, now=T0 + 2 * DAY)

    assert Breach.objects.get(issue=issue).cleared_at == T0 + 2 * DAY


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"body": "  ", "public": True}, "body", "Write the update"),
        ({"body": "", "public": False}, "body", "Write the note"),
        ({"body": "Soon.", "public": True, "promised_update_at": T0}, "promised_update_at", "future"),
        ({"body": "Soon.", "public": True, "promised_update_at": T0 + 3 * DAY}, "promised_update_at", "at the latest"),
        ({"body": "Soon.", "public": False, "promised_update_at": T0 + HOUR}, "promised_update_at", "public"),
        ({"body": "Soon.", "public": True, "promised_update_at": datetime(2026, 11, 2, 12)}, "promised_update_at",
         "time zone"),
    ],
)
def test_a_bad_update_is_refused_with_a_clear_message_and_writes_nothing(customer, manager, arguments, field,
                                                                          message):
    issue = make_issue(customer=customer, at=T0 - HOUR, severity="orange")  # updates due every 2 days
    before = snapshot(issue)

    with pytest.raises(ValidationError) as refused:
        services.post_update(issue=issue, by=manager, now=T0, **arguments)

    assert message in refused.value.message_dict[field][0]
    assert_unchanged(issue, before)


# --- resolve and reopen ---------------------------------------------------------------------------


def test_resolving_stops_both_clocks_and_clears_open_breaches(customer, manager):
    issue = make_issue(customer=customer, at=T0, severity="red")
    services.acknowledge(issue=issue, by=manager, now=T0)
    Breach.objects.create(issue=issue, clock=Clock.UPDATE, severity="red", cycle_started_at=T0,
                          due_at=T0 + DAY, breached_at=T0 + DAY)

    services.resolve(issue=issue, by=manager, body="Fixed in release 4.2.", now=T0 + 2 * DAY)

    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED and issue.resolved_at == T0 + 2 * DAY
    assert issue.ack_due_at is None and issue.update_due_at is None and issue.auto_email_due_at is None
    assert Breach.objects.get(issue=issue).cleared_at == T0 + 2 * DAY
    resolved = issue.events.get(kind=EventKind.RESOLVED)
    assert resolved.public and resolved.body == "Fixed in release 4.2."


def test_resolving_while_waiting_on_the_customer_ends_the_pause(customer, manager):
    issue = make_issue(customer=customer, at=T0)
    wait_on_customer(issue, by=manager, now=T0)

    services.resolve(issue=issue, by=manager, body="Fixed.", now=T0 + DAY)

    issue.refresh_from_db()
    assert issue.update_paused_at is None


def test_resolving_twice_or_a_closed_issue_is_refused(customer, manager):
    issue = make_issue(customer=customer, at=T0)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=T0 + HOUR)
    with pytest.raises(ValidationError, match="already resolved"):
        services.resolve(issue=issue, by=manager, body="Fixed.", now=T0 + 2 * HOUR)

    services.change_status(issue=issue, status=Status.CLOSED, by=manager, now=T0 + 3 * HOUR)
    before = snapshot(issue)
    with pytest.raises(ValidationError, match="closed"):
        services.resolve(issue=issue, by=manager, body="Fixed.", now=T0 + 4 * HOUR)
    assert_unchanged(issue, before)


def test_change_status_to_resolved_is_a_resolution_and_asks_what_was_done(customer, manager):
    issue = make_issue(customer=customer, at=T0)

    with pytest.raises(ValidationError, match="Say what was done"):
        services.change_status(issue=issue, status=Status.RESOLVED, by=manager, now=T0 + HOUR)

    assert issue.events.filter(kind=EventKind.RESOLVED).count() == 0


def test_reopening_starts_a_fresh_acknowledge_clock_that_is_not_already_overdue(customer, manager):
    issue = make_issue(customer=customer, at=T0, severity="red")
    services.acknowledge(issue=issue, by=manager, now=T0 + 10 * timedelta(minutes=1))
    services.resolve(issue=issue, by=manager, body="Fixed.", now=T0 + HOUR)
    reopened_at = T0 + 10 * DAY

    services.reopen(issue=issue, by=manager, now=reopened_at)

    issue.refresh_from_db()
    assert issue.status == Status.NEW
    assert issue.owner == manager
    assert issue.acknowledged_at is None and issue.resolved_at is None
    assert issue.ack_started_at == reopened_at
    assert issue.ack_due_at == reopened_at + HOUR
    assert issue.update_due_at is None
    assert not Issue.objects.overdue(reopened_at).filter(pk=issue.pk).exists()
    assert issue.events.get(kind=EventKind.REOPENED).public


def test_only_a_resolved_issue_can_be_reopened(customer, manager):
    issue = make_issue(customer=customer, at=T0)
    before = snapshot(issue)

    with pytest.raises(ValidationError, match="Only a resolved issue"):
        services.reopen(issue=issue, by=manager, now=T0 + HOUR)

    assert_unchanged(issue, before)


def test_a_failure_mid_change_leaves_no_half_written_issue(customer, manager, monkeypatch):
    issue = make_issue(customer=customer, at=T0)
    before = snapshot(issue)

    def broken_outbox(issue, **details):
        raise RuntimeError("the outbox is unreachable")

    monkeypatch.setattr("notifications.emails.acknowledged", broken_outbox)
    with pytest.raises(RuntimeError, match="outbox is unreachable"):
        services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)

    assert_unchanged(issue, before)


def test_every_event_says_who_did_it(customer, manager):
    issue = make_issue(customer=customer, at=T0, by=manager)
    services.acknowledge(issue=issue, by=manager, now=T0 + HOUR)
    services.post_update(issue=issue, body="On it.", public=True, by=manager, now=T0 + 2 * HOUR)
    services.resolve(issue=issue, by=manager, body="Fixed.", now=T0 + 3 * HOUR)

    assert set(issue.events.values_list("actor", flat=True)) == {manager.pk}


def test_events_are_append_only(customer):
    issue = make_issue(customer=customer, at=T0)
    event = issue.events.first()

    event.body = "rewritten history"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_a_stranger_cannot_be_the_actor_who_takes_ownership(customer, outsider):
    issue = make_issue(customer=customer, at=T0)

    services.acknowledge(issue=issue, by=outsider, now=T0 + HOUR)

    assert Issue.objects.get(pk=issue.pk).owner is None




def test_moving_to_waiting_without_a_message_is_refused(customer, manager):
    issue = make_issue(customer=customer, at=T0, severity="red")

    with pytest.raises(ValidationError, match="Send and wait"):
        services.change_status(issue=issue, status=Status.WAITING_ON_CUSTOMER, by=manager, now=T0)
