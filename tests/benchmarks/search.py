"""Server time of the inbox's search at 100,000 issues on PostgreSQL: p50/p95 over N requests.

    psql -h 127.0.0.1 -U postgres -c 'create database inloop_bench'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inloop_bench .venv/bin/python tests/benchmarks/search.py

Seeds as ``pages.py`` does (the same database serves both), then gives one issue in ten a Korean title and
description and writes a public update with text on one issue in five, so the search reads a realistic
timeline. Measures the inbox, a search by reference, by number, by contact, and substring searches in
Korean and English over open and over all issues. --explain prints the plan of the Korean search.
Not collected by pytest (no test_ prefix).
"""

# ruff: noqa: I001  (pages must come first: it sets Django up)
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks import pages  # first: it sets Django up

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from issues.filters import InboxFilterForm
from issues.models import EventKind, Issue, IssueEvent, Team
from issues.selectors import inbox, people_of, visible_customers

KOREAN = ["결제", "오류", "로그인", "배송", "지연", "환불", "요청", "계정", "잠김", "보고서", "누락", "화면", "깨짐", "알림", "미수신", "데이터", "동기화"]
ENGLISH = ["customer", "confirmed", "the", "workaround", "restart", "fixed", "vendor", "patch", "scheduled", "logs", "attached"]


def seed_text(rng: random.Random) -> None:
    """Korean on one issue in ten, a public update with words on one in five."""
    ids = list(Issue.objects.order_by("pk").values_list("pk", "created_at"))
    korean = [Issue(pk=pk, title=f"{' '.join(rng.sample(KOREAN, 3))} 문제 #{pk}",
                    description=" ".join(rng.choices(KOREAN, k=20))) for pk, _ in ids[::10]]
    Issue.objects.bulk_update(korean, ["title", "description"], batch_size=5000)
    updates = [IssueEvent(issue_id=pk, kind=EventKind.PUBLIC_UPDATE, at=created, public=True,
                          body=" ".join(rng.choices(KOREAN if pk % 2 else ENGLISH, k=12)))
               for pk, created in ids[::5]]
    IssueEvent.objects.bulk_create(updates, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a dedicated PostgreSQL database, e.g. .../inloop_bench")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    if not Issue.objects.exists():
        started = time.perf_counter()
        pages.seed(args.issues)
        print(f"seeded {Issue.objects.count():,} issues in {time.perf_counter() - started:.0f} s")
    if not IssueEvent.objects.filter(kind=EventKind.PUBLIC_UPDATE).exclude(body="").exists():
        seed_text(random.Random(15))
    user = Team.objects.get(name="Bench team 0").members.get()
    client = Client()
    client.force_login(user)
    closed = Issue.objects.visible_to(user).filter(status="closed").select_related("customer").order_by("pk").first()
    contact = closed.customer.contacts.first()
    urls = {
        "inbox": "/",
        "inbox, every status": "/?scope=all",
        "search by reference (closed issue)": f"/?q={closed.reference}",
        "search by number": f"/?q={closed.pk}",
        "search by contact name": f"/?q={contact.name}&scope=all",
        "Korean substring, open": "/?q=결제 오류",
        "Korean substring, every status": "/?q=배송&scope=all",
        "English, update text, every status": "/?q=workaround&scope=all",
        "owner filter (a colleague)": f"/?owner={user.pk}",
    }
    print(f"{Issue.objects.count():,} issues, {IssueEvent.objects.count():,} timeline events; "
          f"{args.requests} requests each")
    pages.run(client, urls, args.requests)
    if args.explain:
        form = InboxFilterForm({"q": "배송", "scope": "all"}, customers=visible_customers(user), people=people_of(user))
        print(inbox(user, form.query(), now=timezone.now())[:25].explain(analyze=True))


if __name__ == "__main__":
    main()
