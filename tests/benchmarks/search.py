"""Server time of the inbox's search at 100,000 issues on PostgreSQL: p50/p95 over N requests.

    psql -h 127.0.0.1 -U postgres -c 'create database inloop_bench'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inloop_bench .venv/bin/python tests/benchmarks/search.py

Seeds as ``pages.py`` does (the same database serves both), then gives one issue in ten (drawn at random,
so every team has its share) a Korean title and description, writes a public update with Korean or English
text on one issue in five, and names a reporter on one issue in ten, so the search reads a realistic
timeline and contacts. A database seeded by an earlier version of this script: drop it and start again.
Measures the inbox and each kind of search (reference in both forms, Korean of three characters or more,
a Korean two-syllable and one-syllable word, English in update text, a contact's name) over open issues
and over every status, with the number of queries and of issues found. --explain prints the plans of the
Korean searches. Not collected by pytest (no test_ prefix).
"""

# ruff: noqa: I001  (pages must come first: it sets Django up)
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks import pages  # first: it sets Django up

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.test import Client
from django.utils import timezone

from issues.filters import InboxFilterForm
from issues.models import Contact, EventKind, Issue, IssueEvent, Team
from issues.selectors import inbox, people_of, visible_customers

KOREAN = ["결제", "오류", "로그인", "배송", "지연", "환불", "요청", "계정", "잠김", "보고서", "누락", "화면", "깨짐", "알림", "미수신", "데이터", "동기화"]
ENGLISH = ["customer", "confirmed", "the", "workaround", "restart", "fixed", "vendor", "patch", "scheduled", "logs", "attached"]
SCOPES = {"open": "", "all": "all"}


def seed_text(rng: random.Random) -> None:
    """Korean on one issue in ten, a public update with words on one in five (Korean or English, half
    each), a reporter on one in ten; each drawn at random, so no team gets all of one kind."""
    ids = list(Issue.objects.order_by("pk").values_list("pk", "created_at"))
    korean = [Issue(pk=pk, title=f"{' '.join(rng.sample(KOREAN, 3))} 문제 #{pk}",
                    description=" ".join(rng.choices(KOREAN, k=20))) for pk, _ in rng.sample(ids, len(ids) // 10)]
    Issue.objects.bulk_update(korean, ["title", "description"], batch_size=5000)
    updates = [IssueEvent(issue_id=pk, kind=EventKind.PUBLIC_UPDATE, at=created, public=True,
                          body=" ".join(rng.choices(rng.choice((KOREAN, ENGLISH)), k=12)))
               for pk, created in sorted(rng.sample(ids, len(ids) // 5))]
    IssueEvent.objects.bulk_create(updates, batch_size=5000)
    reported = [pk for pk, _ in rng.sample(ids, len(ids) // 10)]
    first_contact = Contact.objects.filter(customer=OuterRef("customer")).order_by("pk").values("pk")[:1]
    Issue.objects.filter(pk__in=reported).update(reporter=Subquery(first_contact))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def searches(user) -> dict[str, str]:
    """What is typed, by kind: a closed issue's reference (found whatever the scope) and the words."""
    closed = Issue.objects.visible_to(user).filter(status="closed").select_related("customer").order_by("pk").first()
    contact = Contact.objects.filter(customer__in=visible_customers(user), issues__isnull=False).first()
    return {
        "inbox (no search)": "",
        f"reference {closed.reference}": closed.reference,
        f"reference {closed.pk}": str(closed.pk),
        "Korean, 3+ characters (결제 오류)": "결제 오류",
        "Korean two-syllable word (배송)": "배송",
        "Korean one syllable (잠)": "잠",
        "English, update text (workaround)": "workaround",
        f"contact name ({contact.name})": contact.name,
    }


def found(user, params: dict[str, str]) -> int:
    form = InboxFilterForm(params, customers=visible_customers(user), people=people_of(user))
    return inbox(user, form.query(), now=timezone.now()).count()


def measure_all(client: Client, user, requests: int) -> None:
    print(f"{'search':<42}{'scope':<7}{'p50 ms':>8}{'p95 ms':>8}{'queries':>9}{'found':>8}")
    for name, typed in searches(user).items():
        for scope, value in SCOPES.items():
            params = {key: val for key, val in (("q", typed), ("scope", value)) if val}
            p50, p95, queries = pages.measure(client, f"/?{urlencode(params)}", requests)
            print(f"{name:<42}{scope:<7}{p50:>8.1f}{p95:>8.1f}{queries:>9}{found(user, params):>8,}")


def explain(user) -> None:
    for typed in ("결제 오류", "배송"):
        form = InboxFilterForm({"q": typed, "scope": "all"}, customers=visible_customers(user), people=people_of(user))
        print(f"-- {typed}, every status")
        print(inbox(user, form.query(), now=timezone.now())[:25].explain(analyze=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    pages.prepare(args.issues)
    if not IssueEvent.objects.filter(kind=EventKind.PUBLIC_UPDATE).exclude(body="").exists():
        seed_text(random.Random(15))
    with connection.cursor() as cursor:
        # As autovacuum leaves a live table: fresh statistics and a visibility map, so a count can read the
        # index alone (a freshly seeded table would make every page read the heap).
        cursor.execute("VACUUM ANALYZE")
    user = Team.objects.get(name="Bench team 0").members.get()
    client = Client()
    client.force_login(user)
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    print(f"{Issue.objects.count():,} issues, {IssueEvent.objects.count():,} timeline events; "
          f"{args.requests} requests each; PostgreSQL jit={jit}")
    measure_all(client, user, args.requests)
    if args.explain:
        explain(user)


if __name__ == "__main__":
    main()
