"""The inbox's search, branch by branch: each place a word can be, short words (a Korean two-syllable or
one-syllable word, a Latin pair), and the scope, team and order that still apply to what is found. The same
tests run on SQLite (plain LIKE) and PostgreSQL (trigram and short-gram indexes); the last ones check, on
PostgreSQL, that every branch can be answered by its index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from issues import conversation, search, services
from issues.models import Issue, IssueEvent, IssueText
from tests.factories import ContactFactory, CustomerFactory, TeamFactory, make_issue
from tests.issues.views_helpers import ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def found(client, q: str, **filters: str) -> list[str]:
    response = client.get(reverse("inbox"), {"q": q, **filters})
    assert response.status_code == 200
    return [issue.title for issue in response.context["page"].object_list]


def test_a_korean_two_syllable_word_is_found_inside_longer_words_wherever_it_is_written(hana, customer, manager):
    make_issue(customer=customer, at=ago(hours=4), title="해외배송 지연")
    make_issue(customer=customer, at=ago(hours=3), title="주소 변경", description="배송지를 바꿔 주세요")
    noted = make_issue(customer=customer, at=ago(hours=2), title="추적 번호 문의")
    services.post_update(issue=noted, body="택배사 배송 조회 결과를 기다립니다", public=False, by=manager)
    make_issue(customer=customer, at=ago(hours=1), title="배달 지연", description="배가 고파요")

    assert sorted(found(hana, "배송")) == sorted(["해외배송 지연", "주소 변경", "추적 번호 문의"])


def test_a_one_syllable_word_is_found(hana, customer):
    make_issue(customer=customer, at=ago(hours=2), title="팀 계정 잠김")
    make_issue(customer=customer, at=ago(hours=1), title="계정 잠김")

    assert found(hana, "팀") == ["팀 계정 잠김"]


def test_a_two_letter_search_ignores_case(hana, customer):
    make_issue(customer=customer, at=ago(hours=2), title="New UI freezes")
    make_issue(customer=customer, at=ago(hours=1), title="Exports slow")

    assert found(hana, "ui") == ["New UI freezes"]
    assert found(hana, "Ui") == ["New UI freezes"]


def test_a_word_is_found_in_each_place_it_can_be_and_each_issue_once(hana, customer, manager):
    grace = ContactFactory(customer=customer, name="Grace Hopper", email="grace@acme.example.com")
    ada = ContactFactory(customer=customer, name="Ada Lovelace", email="ada@acme.example.com")
    zebra = CustomerFactory(name="Zebra Freight", code="ZEBRA", slug="zebra", team=customer.team)
    make_issue(customer=customer, at=ago(hours=9), title="Reported by Grace", reporter=grace)
    copied = make_issue(customer=customer, at=ago(hours=8), title="Copied to Ada")
    services.change_recipients(issue=copied, cc=[ada], by=manager)
    make_issue(customer=zebra, at=ago(hours=7), title="Of the other customer")
    updated = make_issue(customer=customer, at=ago(hours=6), title="Updated")
    for body in ("The CDN purge fixed it", "CDN purge again"):
        services.post_update(issue=updated, body=body, public=True, by=manager)
    jiwoo = ContactFactory(customer=customer, name="Lee Jiwoo", email="jiwoo@acme.example.com")
    answered = make_issue(customer=customer, at=ago(hours=5), title="Answered", reporter=jiwoo)
    conversation.receive_customer_message(issue=answered, contact=jiwoo, body="The pallet scanner beeps",
                                          subject="Re: scanner", at=ago(hours=4))

    done = make_issue(customer=customer, at=ago(hours=3), title="Done")
    services.resolve(issue=done, by=manager, body="Replaced the gasket")
    make_issue(customer=customer, at=ago(hours=2), title="Described", description="The forklift battery drains")

    for typed, title in [("hopper", "Reported by Grace"), ("grace@acme", "Reported by Grace"),
                         ("lovelace", "Copied to Ada"), ("ada@acme", "Copied to Ada"),
                         ("zebra", "Of the other customer"), ("cdn purge", "Updated"),
                         ("SCANNER BEEPS", "Answered"), ("gasket", "Done"), ("forklift", "Described")]:
        assert found(hana, typed, scope="all") == [title], typed


def test_the_scope_and_the_teams_still_narrow_what_is_found(hana, customer, manager, outsider):
    make_issue(customer=customer, at=ago(hours=3), title="Printer offline")
    old = make_issue(customer=customer, at=ago(hours=2), title="Printer jammed")
    services.resolve(issue=old, by=manager, body="Cleared the paper path.")
    services.change_status(issue=old, status="closed", by=manager)
    theirs = CustomerFactory(name="Their customer", code="THEIRS", slug="theirs",
                             team=TeamFactory(name="Their team"))
    make_issue(customer=theirs, at=ago(hours=1), title="Printer on fire", by=outsider)

    assert found(hana, "printer") == ["Printer offline"]
    assert sorted(found(hana, "printer", scope="all")) == ["Printer jammed", "Printer offline"]
    assert found(hana, "printer", scope="closed") == ["Printer jammed"]


def test_what_is_found_keeps_the_inbox_order_most_urgent_first(hana, customer):
    make_issue(customer=customer, at=ago(minutes=1), title="Router slow", severity="blue")
    make_issue(customer=customer, at=ago(hours=2), title="Router down", severity="red")  # acknowledge breached

    assert found(hana, "router") == ["Router down", "Router slow"]


def test_many_matching_contacts_are_joined_as_a_subquery_and_still_found(hana, customer, monkeypatch):
    for name in ("Kim Minji", "Kim Seojun"):
        make_issue(customer=customer, at=ago(hours=1), title=f"From {name}",
                   reporter=ContactFactory(customer=customer, name=name))
    with CaptureQueriesContext(connection) as listed:
        assert sorted(found(hana, "kim")) == ["From Kim Minji", "From Kim Seojun"]
    monkeypatch.setattr(search, "NAMED_IDS", 1)

    with CaptureQueriesContext(connection) as joined:
        assert sorted(found(hana, "kim")) == ["From Kim Minji", "From Kim Seojun"]
    assert len(joined) == len(listed)



def test_a_search_runs_as_many_queries_for_one_match_as_for_thirty(hana, customer, manager):
    def queries(q: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            found(hana, q, scope="all")
        return len(captured)

    make_issue(customer=customer, at=ago(hours=40), title="Invoice missing")
    for n in range(30):
        issue = make_issue(customer=customer, at=ago(hours=n + 1), title=f"Export {n}")
        services.post_update(issue=issue, body="export note", public=False, by=manager)

    assert queries("invoice") == queries("export") == queries("ex")


@pytest.mark.postgres
@pytest.mark.parametrize(("typed", "indexes"), [
    ("배송", ["issue_title_grams", "issue_description_grams", "event_body_grams"]),
    ("결제 오류", ["issue_title_trgm", "issue_description_trgm", "event_body_trgm"]),
])
def test_on_postgresql_each_text_branch_can_be_answered_by_its_index(customer, typed, indexes):
    """The search writes each branch exactly as its index is defined (migrations 0012 and 0016). With a
    handful of rows the planner would rather read the table, so it is told not to."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")

    plan = search.matching_ids(typed).explain()

    assert [index for index in indexes if index not in plan] == []


@pytest.mark.postgres
def test_on_postgresql_the_short_grams_are_every_one_and_two_character_piece():
    with connection.cursor() as cursor:
        cursor.execute("SELECT inloop_short_grams(UPPER('배송 ui'))")
        grams = cursor.fetchone()[0]

    assert sorted(grams) == sorted(["배", "송", " ", "U", "I", "배송", "송 ", " U", "UI"])


def test_a_reference_still_finds_its_issue_whatever_the_words(hana, customer, manager):
    old = make_issue(customer=customer, at=ago(days=2), title="Export stuck")
    services.resolve(issue=old, by=manager, body="Restarted it.", now=ago(days=1) + timedelta(hours=1))

    assert found(hana, old.reference) == ["Export stuck"]
    assert found(hana, str(old.pk)) == ["Export stuck"]


@pytest.mark.postgres
def test_on_postgresql_the_words_follow_an_edited_or_deleted_issue(hana, customer):
    """The text indexes live beside the issues (migration 0019), kept by the database: an edit made anywhere
    (here a plain UPDATE, as the admin's would be) is found under its new words and no longer under its old
    ones, and a deleted issue leaves no words behind."""
    printer = make_issue(customer=customer, at=ago(hours=2), title="Printer offline", description="Tray two jams")
    make_issue(customer=customer, at=ago(hours=1), title="Scanner slow")
    Issue.objects.filter(pk=printer.pk).update(title="Plotter offline", description="트레이 2 걸림")

    assert found(hana, "plotter") == ["Plotter offline"]
    assert found(hana, "printer") == found(hana, "tray") == []
    assert found(hana, "걸림") == found(hana, "트레이") == ["Plotter offline"]

    IssueEvent.objects.filter(issue=printer).delete()
    printer.delete()
    assert not IssueText.objects.filter(pk=printer.pk).exists()
    assert IssueText.objects.filter(title="Scanner slow").count() == 1


@pytest.mark.postgres
def test_on_postgresql_writing_an_issues_clocks_touches_no_text_index():
    """Every clock write is a new version of the issue row, and PostgreSQL adds an entry to each of the table's
    indexes for it: the issue row carries none of the search's text indexes (each cost about a millisecond per
    row with a description of a few hundred characters), the table beside it carries all four."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexname FROM pg_indexes WHERE indexdef LIKE '%%USING gin%%'")
        gin = cursor.fetchall()

    assert [name for table, name in gin if table == "issues_issue"] == []
    assert sorted(name for table, name in gin if table == "issues_issuetext") == [
        "issue_description_grams", "issue_description_trgm", "issue_title_grams", "issue_title_trgm"]
