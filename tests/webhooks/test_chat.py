"""A team's chat channel hears of its red issues and of breaches, in the channel's language, with a link."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from issues import services
from issues.scan import scan_sla
from tests.factories import CustomerFactory, make_issue
from webhooks.admin import EndpointForm
from webhooks.delivery import deliver_due

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
CHAT = ["issue.opened", "issue.updated", "clock.breached"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def channels(endpoint_at, customer):
    """The team's Slack channel in English and its Teams channel in Korean."""
    endpoint_at("slack", format="slack", language="en", team=customer.team, events=CHAT)
    endpoint_at("teams", format="teams", language="ko", team=customer.team, events=CHAT)


def card(body: dict) -> dict:
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def test_a_red_issue_is_posted_to_slack_and_in_korean_to_teams_with_a_link(receiver, channels, customer, manager):
    issue = make_issue(customer=customer, at=T0, severity="red", owner=manager, title="Checkout <down> & out")
    deliver_due(now=T0)
    link = f"{settings.SITE_URL}/issues/{issue.pk}/"

    [slack] = receiver.bodies("slack")
    assert slack == {"text": f"*Red issue opened*: <{link}|ACME-{issue.pk} Checkout &lt;down&gt; &amp; out>\n"
                             "Acme Logistics · owner: Hana Lee"}
    [teams] = receiver.bodies("teams")
    content = card(teams)
    assert teams["type"] == "message" and content["type"] == "AdaptiveCard"
    assert content["body"][0]["text"] == f"빨강 이슈 접수: ACME-{issue.pk} Checkout <down> & out"
    assert content["body"][1]["text"] == "Acme Logistics · 담당자: Hana Lee"
    assert content["actions"] == [{"type": "Action.OpenUrl", "title": "열기", "url": link}]
    assert len(receiver.verified()) == 2  # signed like every webhook


def test_a_blue_issue_and_its_updates_are_not_posted_but_a_raise_to_red_is(receiver, channels, customer, manager):
    issue = make_issue(customer=customer, at=T0, severity="blue", owner=manager)
    services.acknowledge(issue=issue, by=manager, now=T0 + MINUTE)
    services.post_update(issue=issue, body="Looking into it.", public=False, by=manager, now=T0 + 2 * MINUTE)
    deliver_due(now=T0 + 3 * MINUTE)
    assert receiver.received == []

    services.change_severity(issue=issue, severity="red", by=manager, now=T0 + 4 * MINUTE)
    deliver_due(now=T0 + 5 * MINUTE)

    assert receiver.bodies("slack")[0]["text"].startswith("*Raised to red*: <")
    assert card(receiver.bodies("teams")[0])["body"][0]["text"].startswith("빨강으로 상향: ACME-")


def test_a_breach_is_posted_whatever_the_severity(receiver, channels, customer, manager):
    make_issue(customer=customer, at=T0, severity="orange", owner=manager)  # acknowledge within 4 hours
    assert scan_sla(now=T0 + 4 * HOUR + MINUTE).breaches == 1
    deliver_due(now=T0 + 4 * HOUR + 2 * MINUTE)

    assert receiver.bodies("slack")[0]["text"].startswith("*Not acknowledged in time*: <")
    assert card(receiver.bodies("teams")[0])["body"][0]["text"].startswith("접수 확인 기한 초과: ACME-")


def test_another_team_s_red_issue_never_reaches_this_channel(receiver, channels, manager, outsider):
    theirs = CustomerFactory(team=outsider.teams.get(), account_manager=outsider)
    make_issue(customer=theirs, at=T0, severity="red", owner=outsider)
    deliver_due(now=T0)

    assert receiver.received == []


def test_a_chat_endpoint_cannot_subscribe_to_events_a_channel_never_hears(customer):
    form = EndpointForm(data={"name": "Ops", "url": "https://hooks.slack.com/services/T0/B0/x", "format": "slack",
                              "language": "en", "events": ["issue.opened", "customer.replied"], "active": "on"})

    assert not form.is_valid()
    assert "events" in form.errors


@pytest.mark.parametrize("url", ["ftp://files.example.com/in", "javascript:alert(1)", "file:///etc/passwd"])
def test_an_endpoint_url_must_be_http_or_https(url):
    form = EndpointForm(data={"name": "CRM", "url": url, "format": "standard", "language": "en",
                              "events": ["issue.opened"], "active": "on"})

    assert not form.is_valid()
    assert "url" in form.errors
