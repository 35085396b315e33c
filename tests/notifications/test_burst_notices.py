"""A burst of breaches reaches each person in one notice, not one email per issue.

After a beat outage, a mass import or a policy edit, thousands of clocks can run out in one scan. A team lead
who received one email per breach would get thousands and read none; instead whoever is told of three or more
of one scan's breaches gets one notice listing them — theirs to answer first — with a link to every overdue
issue. One or two breaches still come one email each, as on any normal day. Each issue's timeline says who
was told on the breach's own line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from issues.models import EventKind, Profile
from issues.scan import scan_sla
from notifications import emails
from notifications.compose import rendered
from notifications.models import EmailKind, OutboundEmail
from tests.factories import make_issue

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
BREACHED = MONDAY + timedelta(hours=2)  # red issues opened on Monday 09:00 and not acknowledged are overdue from 10:00

pytestmark = pytest.mark.django_db


def red_issues(customer, owner, titles: list[str], *, by) -> list:
    return [make_issue(customer=customer, at=MONDAY, severity="red", owner=owner, by=by, title=title)
            for title in titles]


def test_a_lead_told_of_a_burst_gets_one_notice_listing_the_breaches_with_their_owners(
        customer, manager, lead):
    Profile.objects.create(user=lead, language="ko")
    issues = red_issues(customer, manager, ["Invoices export times out", "Labels print blank", "Login loops"], by=lead)
    OutboundEmail.objects.all().delete()

    assert scan_sla(now=BREACHED).breaches == 3

    notices = OutboundEmail.objects.filter(kind__in=[EmailKind.BREACH, EmailKind.BREACHES]).order_by("recipient")
    assert [(row.kind, row.recipient, row.issue_id) for row in notices] == [
        (EmailKind.BREACHES, manager.email, None), (EmailKind.BREACHES, lead.email, None)]
    # Named after the first breach's own notice: a notice of that breach can never be queued twice.
    first = min(issue.pk for issue in issues)
    assert {row.dedupe_key.split(":")[1] for row in notices} == {str(first)}

    to_owner = rendered(notices.get(recipient=manager.email))
    assert to_owner.subject == "Overdue: acknowledge of 3 issues"
    assert "All of them are yours to answer" in to_owner.body_text
    for issue in issues:
        assert f"{issue.reference} {issue.title}" in to_owner.body_text
        assert reverse("issue_detail", kwargs={"pk": issue.pk}) + "?compose=update" in to_owner.body_text  # yours: the update form opens
        assert issue.title in to_owner.body_html
    assert f"{reverse('inbox')}?clock=breached" in to_owner.body_text

    to_lead = rendered(notices.get(recipient=lead.email))
    assert to_lead.subject == "기한 초과: 이슈 3건 (접수 확인)"
    assert "한꺼번에 지나 3통 대신 메일 한 통으로" in to_lead.body_text
    assert to_lead.body_text.count(f"담당자 {manager.get_full_name()}님") == 3

    for issue in issues:
        line = issue.events.get(kind=EventKind.CLOCK_BREACHED)
        assert line.data["emails"] == {EmailKind.BREACHES: [manager.email, lead.email]}


def test_one_or_two_breaches_still_come_one_email_each(customer, manager, lead):
    red_issues(customer, manager, ["Invoices export times out", "Labels print blank"], by=lead)

    assert scan_sla(now=BREACHED).breaches == 2

    assert OutboundEmail.objects.filter(kind=EmailKind.BREACH).count() == 4  # owner and lead, for each
    assert not OutboundEmail.objects.filter(kind=EmailKind.BREACHES).exists()


def test_a_long_burst_lists_the_first_ones_and_counts_the_rest(customer, manager, lead):
    count = emails.LISTED + 5
    red_issues(customer, manager, [f"Branch {n} cannot print" for n in range(count)], by=lead)

    scan_sla(now=BREACHED)

    email = rendered(OutboundEmail.objects.get(kind=EmailKind.BREACHES, recipient=manager.email))
    assert email.subject == f"Overdue: acknowledge of {count} issues"
    assert email.body_text.count("cannot print") == emails.LISTED
    assert "And 5 more." in email.body_text


def test_the_issue_page_shows_who_the_listing_notice_went_to(customer, manager, lead):
    issue, *_ = red_issues(customer, manager, ["Invoices export times out", "Labels print blank", "Login loops"],
                           by=lead)
    scan_sla(now=BREACHED)
    client = Client()
    client.force_login(manager)

    page = client.get(reverse("issue_detail", kwargs={"pk": issue.pk})).content.decode()

    assert "breach notice listing several issues: to 2 colleagues" in page
    assert f"<li>{lead.email}</li>" in page
