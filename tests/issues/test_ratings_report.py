"""Jisoo, lead of Enterprise Support, reads what customers said after resolutions: per owner and per customer over
the last 90 days (how many rated, the average, the share who said it was solved), and takes the ratings away as
a spreadsheet. Another team's ratings never appear."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from issues import feedback, services
from issues.models import Feedback
from issues.reporting.counts import Moment
from issues.reporting.ratings import ratings
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
    make_issue,
)

SEOUL = ZoneInfo("Asia/Seoul")
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

pytestmark = pytest.mark.django_db


def resolved_issue(customer, owner, reporter, *, at: datetime, title: str = "Invoices export times out"):
    issue = make_issue(customer=customer, at=at, owner=owner, reporter=reporter, title=title)
    services.resolve(issue=issue, by=owner, body="Fixed the export.", now=at + HOUR)
    return issue


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def hanbit(team, manager):
    return CustomerFactory(name="Hanbit Bank", code="HANBIT", slug="hanbit", team=team, account_manager=manager)


@pytest.fixture
def rated(now, customer, contact, hanbit, manager, colleague):
    """Acme rated Hana 2 and 4 and said solved once, not solved once; Hanbit rated Daniel 5, solved; and a
    rating 100 days old that no longer counts."""
    min_jun = ContactFactory(customer=hanbit, name="Min-jun Kang", email="minjun@hanbit.example.com", language="ko")
    first = resolved_issue(customer, manager, contact, at=now - 10 * DAY)
    feedback.rate(issue=first, contact=contact, score=2, comment="=HYPERLINK(\"http://evil\")", now=now - 9 * DAY)
    second = resolved_issue(customer, manager, contact, at=now - 8 * DAY, title="Login loops")
    feedback.solved(issue=second, contact=contact, now=now - 7 * DAY)
    feedback.rate(issue=second, contact=contact, score=4, now=now - 7 * DAY)
    third = resolved_issue(customer, manager, contact, at=now - 6 * DAY, title="Slow search")
    feedback.not_solved(issue=third, contact=contact, words="Still slow.", now=now - 5 * DAY)
    fourth = resolved_issue(hanbit, colleague, min_jun, at=now - 4 * DAY, title="카드 결제 오류")
    feedback.solved(issue=fourth, contact=min_jun, now=now - 3 * DAY)
    feedback.rate(issue=fourth, contact=min_jun, score=5, comment="빠른 처리 감사합니다", now=now - 3 * DAY)
    old = resolved_issue(customer, manager, contact, at=now - 101 * DAY, title="Old one")
    feedback.rate(issue=old, contact=contact, score=1, now=now - 100 * DAY)
    return {"first": first, "fourth": fourth}


@pytest.fixture
def elsewhere(now):
    """Another team's customer, rated 1 by its contact: never on Jisoo's dashboard."""
    olga = UserFactory(username="olga-lead", first_name="Olga", last_name="Other")
    other = TeamFactory(name="Other team", lead=olga)
    other.members.add(olga)
    secret = CustomerFactory(name="Secret Corp", code="SECRET", slug="secret", team=other, account_manager=olga)
    contact = ContactFactory(customer=secret, name="Sam Secret", email="sam@secret.example.com")
    issue = resolved_issue(secret, olga, contact, at=now - 2 * DAY, title="Secret outage")
    feedback.rate(issue=issue, contact=contact, score=1, comment="Terrible", now=now - DAY)
    return issue


def test_ratings_add_up_per_owner_and_per_customer_over_90_days(team, rated, elsewhere, now, manager, colleague):
    report = ratings(team, Moment.of(team, now))

    hana, daniel = report.owners
    assert (hana.name, hana.rated, hana.average, hana.answered, hana.solved_percent) == ("Hana Lee", 2, 3.0, 2, 50)
    assert (daniel.name, daniel.rated, daniel.average, daniel.solved_percent) == ("Daniel Cho", 1, 5.0, 100)
    assert daniel.key == colleague.pk and hana.key == manager.pk
    acme, hanbit = report.customers
    assert (acme.name, acme.rated, acme.average, acme.answered, acme.solved) == ("Acme Logistics", 2, 3.0, 2, 1)
    assert (hanbit.name, hanbit.rated, hanbit.average, hanbit.solved_percent) == ("Hanbit Bank", 1, 5.0, 100)
    assert (report.team.rated, report.team.points, report.team.answered, report.team.solved) == (3, 11, 3, 2)
    assert report.last == now.astimezone(SEOUL).date() and (report.last - report.first).days == 89


def test_the_dashboard_shows_the_ratings_card_to_the_lead_and_nothing_of_another_team(
        client, team, lead, rated, elsewhere):
    client.force_login(lead)

    html = client.get(reverse("dashboard")).content.decode()

    card = html[html.index('id="ratings-title"'):html.index('id="compliance-title"')]
    assert "Customer ratings" in card and "Hana Lee" in card and "Hanbit Bank" in card
    assert "3.0" in card and "5.0" in card and "50&nbsp;%" in card and "1 of 2 said solved" in card
    assert f'href="{reverse("dashboard_ratings_csv")}?team={team.pk}"' in card
    assert "Secret" not in html and "Olga" not in html and "Terrible" not in html


def test_a_team_without_ratings_says_so(client, team, lead):
    client.force_login(lead)

    html = client.get(reverse("dashboard")).content.decode()

    assert "No customer has rated a resolution" in html


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Korean names as UTF-8
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_ratings_csv_lists_each_word_of_the_last_90_days_with_formulas_defused(
        client, team, lead, rated, elsewhere, contact):
    client.force_login(lead)

    response = client.get(reverse("dashboard_ratings_csv"), {"team": team.pk})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="ratings-team-{team.pk}-')
    header, *rows = read_csv(response)
    assert header == ["Issue", "Title", "Customer", "Contact", "Contact email", "Owner", "Resolved at", "Solved",
                      "Rating", "Comment", "Given at", "Changed at"]
    assert [row[1] for row in rows] == ["Invoices export times out", "Login loops", "Slow search", "카드 결제 오류"]
    first = rows[0]
    assert first[0] == rated["first"].reference and first[3:6] == ["Grace Hopper", contact.email, "Hana Lee"]
    assert first[7:10] == ["", "2", "'=HYPERLINK(\"http://evil\")"]
    assert [row[7] for row in rows] == ["", "yes", "no", "yes"]
    assert rows[3][9] == "빠른 처리 감사합니다"
    assert not any("Secret" in cell for row in rows for cell in row)


def test_the_ratings_csv_takes_a_period_and_refuses_a_reversed_one(client, team, lead, rated, now):
    client.force_login(lead)
    today = now.astimezone(SEOUL).date()

    wide = client.get(reverse("dashboard_ratings_csv"), {"team": team.pk, "first": str(today - timedelta(days=200)),
                                                        "last": str(today)})
    reversed_period = client.get(reverse("dashboard_ratings_csv"), {"team": team.pk, "first": str(today),
                                                                   "last": str(today - DAY)})

    assert read_csv(wide)[1][1] == "Old one"
    assert reversed_period.status_code == 400


def test_a_rating_keeps_the_owner_it_was_given_to(team, customer, contact, manager, colleague, now):
    issue = resolved_issue(customer, manager, contact, at=now - 2 * DAY)
    feedback.rate(issue=issue, contact=contact, score=3, now=now - DAY)
    services.assign(issue=issue, owner=colleague, by=manager, now=now - HOUR)
    feedback.rate(issue=issue, contact=contact, score=4, now=now)

    assert Feedback.objects.get().owner == manager
    [hana] = ratings(team, Moment.of(team, now)).owners
    assert hana.key == manager.pk and hana.average == 4.0
