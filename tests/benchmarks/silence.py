"""The longest customer silence over eight simulated weeks (tests/simulation.py), per severity.

    python tests/benchmarks/silence.py                                    # SQLite (a scratch file)
    DATABASE_URL=postgres://… python tests/benchmarks/silence.py --issues-per-day 6 --seed 13

Plays the simulation on a scratch database (`<name>_bench` on PostgreSQL), from Monday 2 February 2026
09:00 in Seoul (Seollal inside) unless told otherwise, and prints the Markdown table, the issues whose
silence passed seven days with what happened meanwhile, and the run time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
os.environ["OUTBOX_NUDGE_WORKER"] = "false"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--issues-per-day", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--answer-rate", type=float, default=0.6, help="share of questions the customer answers")
    parser.add_argument("--forgets-answer-rate", type=float, default=0.15,
                        help="share of customer answers their owner never replies to")
    parser.add_argument("--start", help="ISO date and hour, e.g. 2025-09-22T09:00+09:00 (Chuseok 2025 inside)")
    args = parser.parse_args()

    import django
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        settings.DATABASES["default"]["NAME"] = os.path.join(tempfile.mkdtemp(prefix="inloop-bench-"), "bench.db")
    else:
        settings.DATABASES["default"]["NAME"] += "_bench"
    django.setup()

    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    databases = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    try:
        run(args, connection.vendor)
    finally:
        connection.close()
        teardown_databases(databases, verbosity=0)


def run(args, vendor: str) -> None:
    import logging

    from tests.simulation import SEOLLAL_WEEKS, simulate, span

    logging.disable(logging.INFO)  # the scan logs each of its 1,345 runs
    start = datetime.fromisoformat(args.start) if args.start else SEOLLAL_WEEKS
    began = time.perf_counter()
    report = simulate(start=start, weeks=args.weeks, issues_per_day=args.issues_per_day, seed=args.seed,
                      answer_rate=args.answer_rate, forgets_answer_rate=args.forgets_answer_rate)
    seconds = time.perf_counter() - began
    print(report.table())
    print()
    for silence in report.over_limit():
        print(f"{silence.reference} ({silence.severity}, {silence.habit} owner"
              f"{', waited' if silence.waited else ''}): {span(silence.longest)} without news, "
              f"{silence.began:%a %d %b %H:%M} to {silence.ended:%a %d %b %H:%M}")
        for line in report.stories.get(silence.issue_id, []):
            print(f"    {line}")
    print(f"database {vendor}; {len(report.silences)} acknowledged issues measured; run time {seconds:.1f} s")


if __name__ == "__main__":
    main()
