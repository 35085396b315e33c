"""No page, search, filter, export, email or API answer ever shows one team another team's issue.

Hypothesis builds teams, customers and issues of every severity and state, then looks for the other
teams' titles and issue links in everything one person can see or receive.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
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
from notifications.links import customer_page_path
from notifications.models import OutboundEmail
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
    make_api_token,
    make_issue,
    wait_on_customer,
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


def api_pages_for(team: dict, others: list[dict]) -> list[str]:
    """The API's list with the inbox's filters (every scope), and the person's own issue."""
    pages = ["/api/issues", "/api/issues?scope=all&limit=100", "/api/issues?clock=breached", "/api/issues?owner=me",
             f"/api/issues/{team['issues'][0].pk}", "/api/customers"]
    pages += [f"/api/issues?q=Secret{n}x&scope=all" for n in range(len(others) + 1)]
    # A reference finds its issue whatever the scope: another team's never.
    return pages + [f"/api/issues?q={other['issues'][0].pk}" for other in others]


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(teams=st.lists(team_spec, min_size=2, max_size=3))
def test_nobody_ever_sees_another_teams_issue(teams):
    with transaction.atomic():
        cache.clear()  # the API counts requests per token, and a rolled-back token's id comes round again
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
                program = Client(headers={"Authorization": f"Bearer {make_api_token(person)}"})
                for page in api_pages_for(team, others):
                    body = program.get(page).content.decode()
                    leaks = [marker for title, link in foreign for marker in (title, link) if marker in body]
                    assert not leaks, (person.username, page, leaks)
                for other in others:
                    for issue in other["issues"]:
                        assert program.get(f"/api/issues/{issue.pk}").status_code == 404, (person.username, issue.title)
                for email in OutboundEmail.objects.filter(recipient=person.email):
                    text = rendered(email).body_text + rendered(email).body_html + rendered(email).subject
                    leaks = [title for title, _link in foreign if title in text]
                    assert not leaks, (person.username, email.kind, leaks)
        assert Issue.objects.count() == sum(len(team) for team in teams)
        transaction.set_rollback(True)


# --- the customer's own page (portal): a contact's link opens only what that contact receives ----------------

contact_spec = st.booleans()  # follows all their company's issues
page_issue_spec = st.tuples(st.integers(min_value=0, max_value=2),  # the reporter, among the company's contacts
                            st.sets(st.integers(min_value=0, max_value=2), max_size=2),  # copied contacts
                            st.booleans())  # resolved
company_spec = st.tuples(st.lists(contact_spec, min_size=3, max_size=3), st.lists(page_issue_spec, min_size=1,
                                                                                  max_size=3))


def build_companies(companies: list[tuple], now) -> list[dict]:
    world = []
    for number, (follows, issues) in enumerate(companies):
        member = UserFactory(username=f"page-member{number}")
        team = TeamFactory(name=f"Page team {number}", lead=UserFactory(username=f"page-lead{number}"))
        team.members.add(member)
        customer = CustomerFactory(name=f"Company {number}", code=f"P{number}C", slug=f"p{number}c", team=team,
                                   account_manager=member)
        contacts = [ContactFactory(customer=customer, email=f"person{index}@company{number}.example.com",
                                   follows_all_issues=flag) for index, flag in enumerate(follows)]
        made = []
        for index, (reporter, copied, resolved) in enumerate(issues):
            issue = make_issue(customer=customer, at=now - timedelta(hours=index + 1), owner=member,
                               reporter=contacts[reporter], title=f"Page{number}x{index} of company {number}",
                               cc=[contacts[n] for n in copied])
            if resolved:
                services.resolve(issue=issue, by=member, body="Done.", now=now)
            receivers = {contacts[reporter].pk, *(contacts[n].pk for n in copied),
                         *(contact.pk for contact in contacts if contact.follows_all_issues)}
            made.append((issue, receivers, resolved))
        world.append({"customer": customer, "contacts": contacts, "issues": made})
    return world


@pytest.mark.django_db
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(companies=st.lists(company_spec, min_size=2, max_size=2))
def test_a_contacts_link_opens_only_the_issues_they_receive_and_their_list_shows_only_those(companies):
    with transaction.atomic():
        cache.clear()
        world = build_companies(companies, timezone.now())
        everything = [entry for company in world for entry in company["issues"]]
        client = Client()
        for company in world:
            for contact in company["contacts"]:
                for issue, receivers, _resolved in everything:
                    path = customer_page_path(issue.pk, contact.pk, address=contact.email,
                                              generation=contact.page_links_generation)
                    response = client.get(path)
                    may = contact.pk in receivers
                    assert response.status_code == (200 if may else 404), (contact.email, issue.title)
                    assert (issue.title in response.content.decode()) == may
                    cache.clear()
                listed = [issue for issue, receivers, resolved in company["issues"]
                          if contact.pk in receivers and not resolved]
                own = next((issue for issue, receivers, _r in company["issues"] if contact.pk in receivers), None)
                if own is None:
                    continue
                page = client.get(customer_page_path(own.pk, contact.pk, address=contact.email,
                                                     generation=contact.page_links_generation) + "issues/")
                listing = page.content.decode().partition('class="list-group company-issues"')[2]
                shown = {issue.title for issue, _r, _s in everything if issue.title in listing}
                assert shown == {issue.title for issue in listed}, (contact.email, shown)
        transaction.set_rollback(True)
