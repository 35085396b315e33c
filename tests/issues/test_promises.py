"""Promises kept: "we will update you by Wednesday 17:00" ends kept or broken.

Hana promises Acme news by Wednesday 17:00. An update by then keeps it; the resolution keeps it too; the date
passing without one breaks it (once, however often the scan runs). Jisoo, the lead, reads the share of
promises kept per owner and per customer over 30 and 90 days; Acme's page shows theirs; the breaches CSV says
which breach broke a promise.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from issues import services
from issues.models import EventKind, Promise
from issues.promises import Share
from issues.scan import scan_sla
from issues.templatetags.inloop import event_summary
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    make_issue,
    wait_on_customer,
)
from tests.issues.views_helpers import ago

SEOUL = ZoneInfo("Asia/Seoul")
MINUTE = timedelta(minutes=1)
MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=SEOUL)
WEDNESDAY_FIVE = datetime(2026, 11, 11, 17, 0, tzinfo=SEOUL)

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(customer, contact, manager):
    issue = make_issue(customer=customer, at=MONDAY, owner=manager)
    services.acknowledge(issue=issue, by=manager, now=MONDAY + timedelta(hours=1))
    return issue


def promise(issue, by, *, at: datetime, due: datetime):
    return services.post_update(issue=issue, body="We are rebuilding the export index.", public=True, by=by,
                                promised_update_at=due, now=at)


def test_an_update_by_the_promised_date_keeps_the_promise(issue, manager):
    made = promise(issue, manager, at=MONDAY + timedelta(hours=2), due=WEDNESDAY_FIVE)
    services.post_update(issue=issue, body="The index is rebuilt.", public=True, by=manager,
                         now=WEDNESDAY_FIVE - timedelta(hours=2))

    [kept] = Promise.objects.all()
    assert (kept.event, kept.owner, kept.made_at, kept.due_at) == (made, manager, MONDAY + timedelta(hours=2),
                                                                   WEDNESDAY_FIVE)
    assert kept.kept_at == WEDNESDAY_FIVE - timedelta(hours=2) and kept.broken_at is None
    assert scan_sla(now=WEDNESDAY_FIVE + MINUTE).promises_broken == 0
    event = issue.events.get(kind=EventKind.PROMISE_KEPT)
    with translation.override("en"), timezone.override(SEOUL):
        assert event_summary(event) == "Promise of news by Wed 2026-11-11 17:00 kept"


def test_a_promised_date_passing_without_news_breaks_the_promise_once(issue, manager):
    promise(issue, manager, at=MONDAY + timedelta(hours=2), due=WEDNESDAY_FIVE)

    assert scan_sla(now=WEDNESDAY_FIVE - MINUTE).promises_broken == 0
    assert scan_sla(now=WEDNESDAY_FIVE + MINUTE).promises_broken == 1
    assert scan_sla(now=WEDNESDAY_FIVE + 2 * MINUTE).promises_broken == 0
    services.post_update(issue=issue, body="Sorry for the delay.", public=True, by=manager,
                         now=WEDNESDAY_FIVE + timedelta(hours=1))

    [broken] = Promise.objects.all()
    assert broken.broken_at == WEDNESDAY_FIVE and broken.kept_at is None  # a late update does not mend it
    assert issue.events.filter(kind=EventKind.PROMISE_BROKEN).count() == 1
    assert not issue.events.filter(kind=EventKind.PROMISE_KEPT).exists()


def test_an_update_that_comes_late_before_the_scan_still_counts_the_promise_broken(issue, manager):
    promise(issue, manager, at=MONDAY + timedelta(hours=2), due=WEDNESDAY_FIVE)

    services.post_update(issue=issue, body="Late news.", public=True, by=manager, now=WEDNESDAY_FIVE + MINUTE)

    [late] = Promise.objects.all()
    assert late.broken_at == WEDNESDAY_FIVE and late.kept_at is None
    assert scan_sla(now=WEDNESDAY_FIVE + 2 * MINUTE).promises_broken == 0


def test_resolving_before_the_promised_date_keeps_the_promise(issue, manager):
    promise(issue, manager, at=MONDAY + timedelta(hours=2), due=WEDNESDAY_FIVE)

    services.resolve(issue=issue, by=manager, body="Fixed.", now=WEDNESDAY_FIVE - timedelta(days=1))

    [kept] = Promise.objects.all()
    assert kept.kept_at == WEDNESDAY_FIVE - timedelta(days=1)
    assert scan_sla(now=WEDNESDAY_FIVE + MINUTE).promises_broken == 0


def test_send_and_wait_keeps_the_promise_and_repeats_it_as_a_new_one(issue, manager):
    promise(issue, manager, at=MONDAY + timedelta(hours=2), due=WEDNESDAY_FIVE)

    wait_on_customer(issue, by=manager, now=MONDAY + timedelta(days=1))

    first, repeated = Promise.objects.order_by("made_at")
    assert first.kept_at == MONDAY + timedelta(days=1)
    assert repeated.due_at == WEDNESDAY_FIVE and repeated.kept_at is None and repeated.broken_at is None
    assert repeated.event.data["kept_promise"] is True


def test_an_update_nobody_receives_promises_nothing_and_keeps_nothing(customer, manager):
    unreachable = CustomerFactory(team=customer.team, account_manager=manager)
    issue = make_issue(customer=unreachable, at=MONDAY, owner=manager)

    promise(issue, manager, at=MONDAY + timedelta(hours=2), due=WEDNESDAY_FIVE)

    assert not Promise.objects.exists()


def test_a_promise_is_the_owners_when_it_was_made_even_after_a_reassignment(issue, manager, colleague):
    promise(issue, manager, at=MONDAY + timedelta(hours=2), due=WEDNESDAY_FIVE)
    services.assign(issue=issue, owner=colleague, by=manager, now=MONDAY + timedelta(hours=3))

    assert Promise.objects.get().owner == manager


@pytest.fixture
def history(customer, contact, manager, colleague):
    """Hana: one promise broken 59 days ago, two kept within the last ten days. Daniel: one broken 3 days ago."""
    hanas = make_issue(customer=customer, at=ago(days=61), owner=manager, title="Export times out")
    services.acknowledge(issue=hanas, by=manager, now=ago(days=61))
    promise(hanas, manager, at=ago(days=60), due=ago(days=59))
    scan_sla(now=ago(days=59) + MINUTE)
    promise(hanas, manager, at=ago(days=10), due=ago(days=8))
    promise(hanas, manager, at=ago(days=9), due=ago(days=5))
    services.post_update(issue=hanas, body="Done with step two.", public=True, by=manager, now=ago(days=6))
    other = CustomerFactory(team=customer.team, account_manager=colleague, name="Bora Foods", code="BORA", slug="bora")
    ContactFactory(customer=other, follows_all_issues=True)
    daniels = make_issue(customer=other, at=ago(days=5), owner=colleague, title="Labels misprint")
    services.acknowledge(issue=daniels, by=colleague, now=ago(days=5))
    promise(daniels, colleague, at=ago(days=4), due=ago(days=3))
    scan_sla(now=ago(days=3) + MINUTE)
    return hanas, daniels


def test_the_dashboard_shows_the_share_kept_per_owner_and_per_customer_over_30_and_90_days(
        client, lead, manager, colleague, history):
    client.force_login(lead)

    response = client.get(reverse("dashboard"))

    owners = {row.owner: dict(row.promises) for row in response.context["owners"] if row.owner}
    assert owners[manager] == {30: Share(2, 2), 90: Share(2, 3)}
    assert owners[colleague] == {30: Share(0, 1), 90: Share(0, 1)}
    customers = {row.slug: dict(row.promises) for row in response.context["customers"]}
    assert customers == {"acme": {30: Share(2, 2), 90: Share(2, 3)}, "bora": {30: Share(0, 1), 90: Share(0, 1)}}
    html = response.content.decode()
    assert "Promises kept" in html and "30 d / 90 d" in html
    assert "100 %</span> / <span" in html and "66 %" in html and "0 %" in html


def test_the_customer_page_shows_the_share_of_promises_kept_for_that_customer(client, manager, history):
    client.force_login(manager)

    html = client.get(reverse("customer_detail", kwargs={"slug": "acme"})).content.decode()

    section = html.split("Promises kept")[1].split("</dd>")[0]
    assert "30 days: " in section and "100 %" in section
    assert "90 days: " in section and "66 %" in section
    assert 'title="2 of 3 promises kept"' in section


def test_the_breaches_csv_marks_the_breach_whose_cycle_broke_a_promise(client, lead, history):
    client.force_login(lead)
    first, last = timezone.localdate() - timedelta(days=70), timezone.localdate()

    response = client.get(reverse("dashboard_breaches_csv"), {"first": first, "last": last})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    column = rows[0].index("Promise broken")
    marked = {(row[3], row[5], row[column]) for row in rows[1:]}
    assert ("Hana Lee", "update", "yes") in marked and ("Daniel Cho", "update", "yes") in marked
    assert len(rows) > 2
