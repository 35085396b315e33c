"""Server time of the API's issue list at 100,000 issues on PostgreSQL, beside the inbox page's in the same run.

    createdb -h 127.0.0.1 -U inloop inloop_bench
    DATABASE_URL=postgres://inloop@127.0.0.1:5432/inloop_bench .venv/bin/python tests/benchmarks/api.py

Seeds once with ``pages.prepare`` (the same data as pages.py and search.py: 100,000 issues, half of them in the
benchmark user's team), then measures p50/p95 over N requests through the test client: the inbox page and
GET /api/issues (first page, 25 rows as the inbox), each unfiltered and filtered (red and breached), the API's
second page (through its cursor) and a page of 100. Compare the ratios of one run: the machine is shared.
Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings
from django.test import Client

from issues.models import Issue, Team
from tests.benchmarks.pages import measure, prepare
from tests.factories import make_api_token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    prepare(args.issues)
    settings.API_REQUESTS_PER_MINUTE = 1_000_000  # measuring the list, not the limit
    user = Team.objects.get(name="Bench team 0").members.get()
    browser = Client()
    browser.force_login(user)
    program = Client(headers={"Authorization": f"Bearer {make_api_token(user, name='Benchmark')}"})
    second = program.get("/api/issues").json()["next"]
    open_count = Issue.objects.visible_to(user).open().count()
    print(f"{Issue.objects.count():,} issues; {open_count:,} open in the benchmark user's teams; "
          f"{args.requests} requests each")
    print(f"{'what':<38}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    for name, client, url in [
        ("inbox page", browser, "/"),
        ("API list, first page", program, "/api/issues"),
        ("inbox page, red + breached", browser, "/?severity=red&clock=breached"),
        ("API list, red + breached", program, "/api/issues?severity=red&clock=breached"),
        ("API list, second page (cursor)", program, second),
        ("API list, 100 a page", program, "/api/issues?limit=100"),
    ]:
        p50, p95, queries = measure(client, url, args.requests)
        print(f"{name:<38}{p50:>9.1f}{p95:>9.1f}{queries:>9}")


if __name__ == "__main__":
    main()
