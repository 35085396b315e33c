"""No page, search, filter, export or email ever shows one team another team's issue.

Hypothesis builds teams, customers and issues of every severity and state, then looks for the other
teams' titles and issue links in everything one person can see or receive.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issues import services
from issues.models import Issue
from issues.scan import scan_sla
from notifications.compose import rendered
from notifications.digests import send_digests
from notifications.models import OutboundEmail
from tests.factories import (
    wait_on_customer,
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
    make_issue,
)

SEVERITIES = ["red", "orange", "blue", "green"]
issue_spec = st.tuples(st.sampled_from(SEVERITIES), st.sampled_from(["new", "acknowledged", "waiting", "resolved"]),
                       st.integers(min_value=0, max_value=200))  # hours ago it was opened
team_spec = st.lists(issue_spec, min_size=1, max_size=4)


def build(teams: list[list[tuple]], now) -> list[dict]:
    world = []
    for number, issues in enumerate(teams):
        lead, member = UserFactory(username=f"lead{number}"), UserFactory(username=f"member{number}")
        team = TeamFactory(name=f"Team {number}", lead=lead)
        team.members.add(member)
        customer = CustomerFactory(name=f"Customer {number}", code=f"T{number}C", slug=f"t{number}c", team=team,
                                   account_manager=member)
        ContactFactory(customer=customer, email=f"contact{number}@customer{number}.example.com")
        made = []
        for index, (severity, fate, hours_ago) in enumerate(issues):
            issue = make_issue(customer=customer, at=now - timedelta(hours=hours_ago), severity=severity,
                               owner=member, title=f"Secret{number}x{index} of team {number}")
            if fate in {"acknowledged", "waiting", "resolved"}:
                services.acknowledge(issue=issue, by=member, now=now - timedelta(hours=hours_ago) + timedelta(minutes=5))
            if fate == "waiting":
                wait_on_customer(issue, by=member, now=now)
            if fate == "resolved":
                services.resolve(issue=issue, by=member, body=f"Fixed Secret{number}x{index}", now=now)
            made.append(issue)
        world.append({"team": team, "lead": lead, "member": member, "customer": customer, "issues": made})
    return world


def next_morning(now):
    """A few minutes after 09:00 tomorrow, when every team without a calendar gets its digest."""
    local = timezone.localtime(now) + timedelta(days=1)
    return local.replace(hour=9, minute=5, second=0, microsecond=0)


def pages_for(team: dict, others: list[dict]) -> list[str]:
    own = team["issues"][0]
    foreign_words = [f"Secret{n}x" for n in range(len(others) + 1)]
    pages = ["/", "/?clock=breached", "/?clock=at_risk", "/?owner=me", "/?owner=unassigned", "/?status=new",
             "/customers/", f"/customers/{team['customer'].slug}/", f"/issues/{own.pk}/", "/issues/new/",
             f"/dashboard/?team={team['team'].pk}", f"/dashboard/breaches.csv?team={team['team'].pk}",
             f"/dashboard/owners.csv?team={team['team'].pk}"]
    pages += [f"/?q={word}" for word in foreign_words] + [f"/?severity={severity}" for severity in SEVERITIES]
    return pages


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(teams=st.lists(team_spec, min_size=2, max_size=3))
def test_nobody_ever_sees_another_teams_issue(teams):
    with transaction.atomic():
        now = timezone.now()
        world = build(teams, now)
        scan_sla(now=now)
        send_digests(now=next_morning(now))
        for team in world:
            others = [other for other in world if other is not team]
            foreign = [(issue.title, f"/issues/{issue.pk}/") for other in others for issue in other["issues"]]
            for person in (team["lead"], team["member"]):
                client = Client()
                client.force_login(person)
                for page in pages_for(team, others):
                    response = client.get(page)
                    raw = b"".join(response.streaming_content) if response.streaming else response.content
                    body = raw.decode(errors="replace")
                    leaks = [marker for title, link in foreign for marker in (title, link) if marker in body]
                    assert not leaks, (person.username, page, leaks)
                for email in OutboundEmail.objects.filter(recipient=person.email):
                    text = rendered(email).body_text + rendered(email).body_html + rendered(email).subject
                    leaks = [title for title, _link in foreign if title in text]
                    assert not leaks, (person.username, email.kind, leaks)
        assert Issue.objects.count() == sum(len(team) for team in teams)
        transaction.set_rollback(True)
