"""A burst for the SLA monitor: thousands of clocks running out at once (a beat outage, a mass import, a policy
edit). The scan writes a batch set-based (``issues.burst``) and says exactly what it said one issue at a time:
the same keys, kinds, languages and holds, once each, however many scans run at once."""

from __future__ import annotations

import importlib
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues import burst, scan, search, services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import (
    Breach,
    BusinessCalendar,
    Clock,
    EventKind,
    Issue,
    IssueEvent,
    Profile,
)
from issues.models.issue import CLOCK_COLUMNS
from issues.scan import scan_sla
from notifications.emails import stamp
from notifications.models import EmailKind, OutboundEmail
from notifications.outbox import Email
from tests.factories import ContactFactory, bulk_issues, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
THURSDAY = datetime(2026, 11, 5, 17, 0, tzinfo=SEOUL)
SATURDAY = datetime(2026, 11, 7, 17, 1, tzinfo=SEOUL)  # a red issue acknowledged on Friday 17:00 is overdue
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

pytestmark = pytest.mark.django_db


def queries_of(work) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        result = work()
    return len(captured), result


# --- what a burst says, to whom, in which language, when ---------------------------------------------------


def test_a_burst_queues_each_notice_and_automatic_email_under_its_cycles_key_in_its_readers_language(
        team, customer, contact, manager, lead):
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)  # Mon-Fri 09:00-18:00 in Seoul
    team.save()
    Profile.objects.update_or_create(user=lead, defaults={"language": "ko"})
    minji = ContactFactory(customer=customer, name="김민지", email="minji@acme.example.com", language="ko",
                           follows_all_issues=True)
    orange = make_issue(customer=customer, at=THURSDAY, severity="orange", owner=manager)
    services.acknowledge(issue=orange, by=manager, now=THURSDAY)  # two days to the next update: Saturday 17:00
    red = make_issue(customer=customer, at=THURSDAY + DAY, severity="red", owner=manager)
    services.acknowledge(issue=red, by=manager, now=THURSDAY + DAY)  # one day: Saturday 17:00 too
    OutboundEmail.objects.all().delete()

    report = scan_sla(now=SATURDAY)

    assert (report.breaches, report.auto_emails, report.warnings) == (2, 2, 0)  # too late to warn
    queued = set(OutboundEmail.objects.values_list("dedupe_key", "kind", "recipient", "language", "next_attempt_at"))
    # Red notices go at once; orange ones wait for the working day, at most 12 hours (Sunday 05:01). The
    # customer's automatic emails never wait.
    held_until = SATURDAY + 12 * HOUR
    expected = set()
    for issue, notices_at in ((red, SATURDAY), (orange, held_until)):
        cycle = stamp(issue.update_started_at)
        expected |= {
            (f"breach:{issue.pk}:update:{cycle}:{manager.pk}", EmailKind.BREACH, manager.email, "en", notices_at),
            (f"breach:{issue.pk}:update:{cycle}:{lead.pk}", EmailKind.BREACH, lead.email, "ko", notices_at),
            (f"auto:{issue.pk}:{cycle}:1:{contact.pk}", EmailKind.AUTO_STATUS, contact.email, "en", SATURDAY),
            (f"auto:{issue.pk}:{cycle}:1:{minji.pk}", EmailKind.AUTO_STATUS, minji.email, "ko", SATURDAY),
        }
    assert queued == expected
    for issue in (red, orange):
        # Who heard is kept on the breach's and the automatic email's own lines, not on lines of their own.
        told = {event.kind: event.data["emails"] for event in issue.events.filter(at=SATURDAY, kind__in=[
            EventKind.CLOCK_BREACHED, EventKind.AUTO_STATUS_EMAIL])}
        assert told == {EventKind.CLOCK_BREACHED: {EmailKind.BREACH: [manager.email, lead.email]},
                        EventKind.AUTO_STATUS_EMAIL: {EmailKind.AUTO_STATUS: [contact.email, minji.email]}}
        assert not issue.events.filter(kind=EventKind.EMAIL_QUEUED, at=SATURDAY).exists()
        issue.refresh_from_db()
        assert (issue.auto_emails_sent, issue.customer_last_heard_at) == (1, SATURDAY)
    assert scan_sla(now=SATURDAY + MINUTE).breaches == 0  # twice is once
    assert OutboundEmail.objects.count() == len(expected)


# --- a fixed number of queries, whatever the number of issues -------------------------------------------


def test_a_scan_with_nothing_due_runs_as_many_queries_over_thirty_open_issues_as_over_three(customer, manager):
    now = timezone.now()
    bulk_issues(customer=customer, count=3, opened_at=now - HOUR, acknowledged_at=now - HOUR)
    scan_sla(now=now)  # the heartbeat's first row is out of the count
    few, report = queries_of(lambda: scan_sla(now=now))
    bulk_issues(customer=customer, count=27, opened_at=now - HOUR, acknowledged_at=now - HOUR)

    many, _ = queries_of(lambda: scan_sla(now=now))

    assert report == scan.ScanReport()  # nothing was due: the count is the steady state's
    assert few == many
    assert few >= len(CLOCK_COLUMNS) * 2 + 6  # every step looked: one claim query each at least


def test_a_burst_runs_as_many_queries_for_forty_breaches_as_for_three(customer, contact, manager, lead):
    start = timezone.now() - 3 * DAY
    bulk_issues(customer=customer, count=3, opened_at=start, acknowledged_at=start)  # red: due a day later
    bulk_issues(customer=customer, count=40, opened_at=start, acknowledged_at=start + HOUR)
    scan_sla(now=start + 23 * HOUR)  # all at risk, none due: the reminders are out of the count

    few, three = queries_of(lambda: scan_sla(now=start + DAY + MINUTE))
    many, forty = queries_of(lambda: scan_sla(now=start + DAY + HOUR + MINUTE))  # before the first escalate

    assert (three.breaches, three.auto_emails, forty.breaches, forty.auto_emails) == (3, 3, 40, 40)
    assert few == many
    # Three breaches and forty at once: the owner and the lead each get one notice per scan, listing them.
    listed = OutboundEmail.objects.filter(kind=EmailKind.BREACHES).order_by("pk").values_list("recipient", "context")
    assert [(recipient, context["count"]) for recipient, context in listed] == [
        (manager.email, 3), (lead.email, 3), (manager.email, 40), (lead.email, 40)]
    assert not OutboundEmail.objects.filter(kind=EmailKind.BREACH).exists()


def test_a_breach_and_its_automatic_email_write_each_issue_row_once(customer, contact, manager, lead):
    start = timezone.now() - 3 * DAY
    overdue = bulk_issues(customer=customer, count=40, opened_at=start, acknowledged_at=start)
    scan_sla(now=start + 23 * HOUR)  # the reminders are out of the count

    with CaptureQueriesContext(connection) as captured:
        report = scan_sla(now=start + DAY + MINUTE)

    assert (report.breaches, report.auto_emails) == (40, 40)
    writes = [query["sql"] for query in captured if query["sql"].startswith('UPDATE "issues_issue"')]
    assert len(writes) == 1  # the claim's flag and the email's count in one new version of each row
    for issue in Issue.objects.filter(pk__in=[issue.pk for issue in overdue]):
        assert (issue.update_breached_at, issue.auto_emails_sent, issue.last_auto_email_at,
                issue.customer_last_heard_at) == (start + DAY + MINUTE, 1, start + DAY + MINUTE, start + DAY + MINUTE)
        assert issue.auto_email_due_at > start + DAY + MINUTE


# --- the claim is the conditional UPDATE -------------------------------------------------------------------


def test_a_candidate_another_scan_flagged_after_it_was_read_is_not_claimed_twice(
        customer, contact, manager, lead, monkeypatch):
    start = timezone.now() - 3 * DAY
    (early,) = bulk_issues(customer=customer, count=1, opened_at=start, acknowledged_at=start)
    (late,) = bulk_issues(customer=customer, count=1, opened_at=start, acknowledged_at=start + HOUR)
    assert scan_sla(now=start + DAY + MINUTE).breaches == 1  # another scan handled the early one
    notices = OutboundEmail.objects.filter(issue=early, kind=EmailKind.BREACH).count()
    # This scan read its candidates before that one committed (as without a row lock): both look due to it.
    real_claim = scan._claim
    monkeypatch.setattr(scan, "_claim", lambda candidates, due, limit: sorted({*real_claim(candidates, due, limit),
                                                                                 early.pk}))

    handled, seen = scan.breach(Clock.UPDATE, now=start + DAY + 2 * HOUR, limit=10)

    assert (handled, seen) == (1, 2)  # the UPDATE's own count: the late one only
    assert Issue.objects.get(pk=early.pk).update_breached_at == start + DAY + MINUTE  # its flag untouched
    assert early.events.filter(kind=EventKind.CLOCK_BREACHED).count() == 1
    assert OutboundEmail.objects.filter(issue=early, kind=EmailKind.BREACH).count() == notices == 2
    assert late.events.filter(kind=EventKind.CLOCK_BREACHED).count() == 1


# --- four scanners at once -------------------------------------------------------------------------------


def four_scanners(*, now: datetime, batch_size: int | None = None) -> tuple[float, list]:
    """Four scans at once, each in its own thread and connection, as four beats or workers would."""
    errors: list[BaseException] = []
    ready = threading.Barrier(4)

    def scanner() -> None:
        try:
            ready.wait()
            scan_sla(now=now, **({"batch_size": batch_size} if batch_size else {}))
        except Exception as error:  # noqa: BLE001 (surfaced by the caller)
            errors.append(error)
        finally:
            connections.close_all()  # this thread's connection: the test database can be dropped

    threads = [threading.Thread(target=scanner) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=1800)
    return time.perf_counter() - started, errors


def assert_each_breach_exactly_once(count: int, *, owner, lead) -> None:
    """Every breach, its event, its automatic email: once each, none missing; the owner and the lead told of each
    breach once (in a notice listing a batch's breaches, or its own where a batch held only one or two), and who
    heard noted on the breach's and the email's own lines."""
    assert Counter(Counter(Breach.objects.values_list("issue", "clock", "cycle_started_at")).values()) == {1: count}
    for kind in (EventKind.CLOCK_BREACHED, EventKind.AUTO_STATUS_EMAIL):
        assert Counter(Counter(IssueEvent.objects.filter(kind=kind).values_list("issue", flat=True)).values()) == {
            1: count}
    automatic = Counter(OutboundEmail.objects.filter(kind=EmailKind.AUTO_STATUS).values_list("issue", flat=True))
    assert len(automatic) == count and set(automatic.values()) == {1}
    told, noted = Counter(), Counter()
    for recipient, kind, context in OutboundEmail.objects.filter(
            kind__in=[EmailKind.BREACH, EmailKind.BREACHES]).values_list("recipient", "kind", "context"):
        told[recipient] += context["count"] if kind == EmailKind.BREACHES else 1
    for data in IssueEvent.objects.filter(kind=EventKind.CLOCK_BREACHED).values_list("data", flat=True):
        assert set(data["emails"]) <= {EmailKind.BREACH, EmailKind.BREACHES}
        noted.update(address for addresses in data["emails"].values() for address in addresses)
    assert told == noted == {owner.email: count, lead.email: count}
    assert OutboundEmail.objects.filter(kind=EmailKind.BREACHES).exists()  # a burst is told as lists
    assert not IssueEvent.objects.filter(kind=EventKind.EMAIL_QUEUED).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_scanners_at_once_over_two_thousand_due_issues_handle_each_breach_exactly_once(
        customer, contact, manager, lead):
    now = timezone.now()
    bulk_issues(customer=customer, count=2000, opened_at=now - 3 * DAY, acknowledged_at=now - 3 * DAY)

    _, errors = four_scanners(now=now, batch_size=150)  # small batches: the four interleave

    assert errors == []
    assert_each_breach_exactly_once(2000, owner=manager, lead=lead)


# --- a burst shared over the scan's connections -----------------------------------------------------------


def watched_helpers(monkeypatch) -> list[scan.Helpers]:
    """The scan's helpers of every step drained from here on, kept so the test can say whether they ran."""
    made = []

    class Watched(scan.Helpers):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(scan, "Helpers", Watched)
    return made


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_burst_is_drained_by_the_scan_and_a_helper_on_its_own_connection_each_breach_once(
        customer, contact, manager, lead, settings, monkeypatch):
    settings.SLA_SCAN_CONNECTIONS = 2
    helpers = watched_helpers(monkeypatch)
    now = timezone.now()
    bulk_issues(customer=customer, count=300, opened_at=now - 3 * DAY, acknowledged_at=now - 3 * DAY)

    report = scan_sla(now=now, batch_size=20)

    assert (report.breaches, report.auto_emails) == (300, 300)
    # A full claim called one helper: in the update clock's reminder step (300 at risk, every one overdue
    # already: flagged, no reminder) and in its breach step.
    called = {helper.step.func.__name__: helper for helper in helpers if helper.threads}
    assert {step: len(helper.threads) for step, helper in called.items()} == {"warn": 1, "breach": 1}
    assert 0 < sum(called["breach"].done) < 300  # it took batches of its own, the scan's connection the rest
    assert_each_breach_exactly_once(300, owner=manager, lead=lead)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_helper_that_fails_loses_nothing_the_next_scan_finishes_the_burst(
        customer, contact, manager, lead, settings, monkeypatch):
    settings.SLA_SCAN_CONNECTIONS = 2
    now = timezone.now()
    bulk_issues(customer=customer, count=100, opened_at=now - 3 * DAY, acknowledged_at=now - 3 * DAY)
    breach = scan.breach

    def failing_in_helpers(*args, **kwargs):
        if threading.current_thread().name.startswith("sla-scan-helper"):
            raise ConnectionError("the helper's connection dropped")
        return breach(*args, **kwargs)

    monkeypatch.setattr(scan, "breach", failing_in_helpers)
    with pytest.raises(ConnectionError):
        scan_sla(now=now, batch_size=10)
    monkeypatch.setattr(scan, "breach", breach)
    assert Breach.objects.count() == 100  # the scan's own connection drained what the helper left
    connections.close_all()

    assert scan_sla(now=now, batch_size=10).breaches == 0  # and the next finds nothing left undone
    assert_each_breach_exactly_once(100, owner=manager, lead=lead)


def test_inside_a_callers_transaction_the_scan_drains_a_burst_alone(customer, contact, manager, lead, monkeypatch):
    helpers = watched_helpers(monkeypatch)
    now = timezone.now()
    bulk_issues(customer=customer, count=12, opened_at=now - 3 * DAY, acknowledged_at=now - 3 * DAY)

    report = scan_sla(now=now, batch_size=5)  # this test runs in a transaction: a helper could not see its rows

    assert (report.breaches, report.auto_emails) == (12, 12)
    assert helpers and not any(helper.threads for helper in helpers)
    assert_each_breach_exactly_once(12, owner=manager, lead=lead)


# --- the writer itself ------------------------------------------------------------------------------------

HOSTILE = ["tab\tinside", "two\nlines\r\n", "back\\slash", "\\N", "", "배송 지연 😀", 'quotes "and" \'more\'']


def test_hostile_text_goes_through_the_set_based_writer_unchanged(customer, manager):
    issue = make_issue(customer=customer, at=THURSDAY, owner=manager)
    before = set(IssueEvent.objects.values_list("pk", flat=True))

    burst.insert(IssueEvent, ("issue", "kind", "at", "body", "new_value", "data"), [
        (issue.pk, EventKind.INTERNAL_NOTE, THURSDAY, text, text[:200], {"text": text, "list": [text, None, 1.5]})
        for text in HOSTILE
    ])

    written = IssueEvent.objects.exclude(pk__in=before).order_by("pk")
    assert [(event.body, event.new_value, event.data, event.public, event.old_value, event.actor_id, event.at)
            for event in written] == [(text, text, {"text": text, "list": [text, None, 1.5]}, False, "", None, THURSDAY)
                                      for text in HOSTILE]


def test_the_batch_outbox_skips_a_key_already_queued_and_returns_only_what_it_wrote(customer, contact):
    def email(key: str, name: str = "Grace\tHopper") -> Email:
        return Email(recipient=contact.email, recipient_name=name, language="en", kind=EmailKind.AUTO_STATUS,
                     dedupe_key=key, contact_id=contact.pk, context={"note": "line\none"})

    first = burst.enqueue([email("a"), email("b")], now=THURSDAY)
    again = burst.enqueue([email("b"), email("c"), email("c")], now=THURSDAY + HOUR)

    assert [row.dedupe_key for row in first] == ["a", "b"]
    assert [row.dedupe_key for row in again] == ["c"]  # "b" was there, "c" given twice is written once
    rows = {row.dedupe_key: row for row in OutboundEmail.objects.all()}
    assert sorted(rows) == ["a", "b", "c"]
    assert rows["b"].created_at == THURSDAY and rows["c"].next_attempt_at == THURSDAY + HOUR
    assert rows["a"].recipient_name == "Grace Hopper" and rows["a"].context == {"note": "line\none"}
    assert rows["a"].status == OutboundEmail.Status.PENDING and rows["a"].headers == {} and rows["a"].attempts == 0
    assert rows["a"].message_id != rows["b"].message_id


def test_the_batch_update_gives_each_row_its_own_values(customer, manager):
    issues = [make_issue(customer=customer, at=THURSDAY + n * HOUR, owner=manager) for n in range(3)]

    burst.update(Issue, ("auto_emails_sent", "auto_email_due_at"),
                 [(issue.pk, n + 1, None if n == 1 else SATURDAY + n * DAY) for n, issue in enumerate(issues)])

    assert list(Issue.objects.filter(pk__in=[i.pk for i in issues]).order_by("pk").values_list(
        "auto_emails_sent", "auto_email_due_at")) == [(1, SATURDAY), (2, None), (3, SATURDAY + 2 * DAY)]


# --- homes ------------------------------------------------------------------------------------------------


def test_the_timeline_text_indexes_hold_the_kinds_the_search_reads():
    migration = importlib.import_module("issues.migrations.0018_burst_scan")

    assert set(migration.SEARCHED_KINDS) == {str(kind) for kind in search.SEARCHED_EVENTS}
