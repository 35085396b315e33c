"""Load: the production shape (gunicorn, 2 workers, PostgreSQL) at 50,000 issues, driven by wrk.

    apt-get install -y wrk
    psql -h 127.0.0.1 -U inloop -d postgres -c 'create database inloop_load'
    DATABASE_URL=postgres://inloop@127.0.0.1:5432/inloop_load .venv/bin/python tests/benchmarks/load.py

Seeds once with ``pages.prepare`` (4 teams, half of the issues in the benchmark user's team, their timeline
and breaches), counts the teams' compliance days, vacuums (as autovacuum keeps a live table), starts gunicorn
with two workers and logs in over HTTP.
Then wrk (2 threads, 8 connections, --seconds a run) drives one page at a time with a logged-in session:

- the baseline, a minimal logged-in page: ``/preferences/`` goes through the same middleware (session, user,
  CSRF, language), the same base layout and navigation as every page, and reads a handful of rows. It is
  the fair yardstick for the inbox: what remains is the inbox's own work. (``/healthz`` needs no session and
  renders no template, but opens a fresh broker connection on each request: it measures neither.)
- the inbox, taking turns with the baseline (--rounds times each, so a neighbour's load on the shared
  machine weighs on both alike); then an issue page, the customer list, a customer page, the dashboard (as
  the team's lead), the inbox's search, and ``GET /api/issues`` with a token.

Prints requests per second, p50/p95 and errors per page, the inbox's share of the baseline's requests per
second in each turn (the target is at least half), and the web workers' resident memory before and after. Then, for --mix seconds, people read and write at once (inbox, issue pages, updates, the
dashboard) from Python threads, with the same table. Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["OUTBOX_NUDGE_WORKER"] = "false"
ISSUES = 50_000
PASSWORD = "a long benchmark passphrase"
# Per request, a different path from the list (issue pages, customer pages); the summary as one line.
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local counter = math.random(#paths)
request = function()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %.1f %.1f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk's run per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="turns of the baseline and the inbox")
    parser.add_argument("--mix", type=int, default=30, help="seconds of mixed reading and writing (0: none)")
    parser.add_argument("--issues", type=int, default=ISSUES, help="seeded once, into an empty database")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from issues.models import Customer, Issue, Team
    from issues.reporting import rollups
    from tests.benchmarks import pages
    from tests.faults.services import (
        Browser,
        WebApp,
        app_environment,
        database_url_of_this_run,
    )

    pages.prepare(args.issues)
    rollups.recount_all()  # what a deploy runs once: no worker counts a team's history while measured
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum keeps a live table: index-only scans can count
    team = Team.objects.get(name="Bench team 0")
    manager, lead = team.members.get(), team.lead
    for person in (manager, lead):
        person.set_password(PASSWORD)
        person.save(update_fields=["password"])
    issues = list(Issue.objects.visible_to(manager).open().order_by("pk").values_list("pk", flat=True)[:500])
    customers = list(Customer.objects.filter(team=team).values_list("slug", flat=True))
    token = api_token(manager)
    print(f"{Issue.objects.count():,} issues, {Issue.objects.filter(customer__team=team).count():,} in the "
          f"benchmark user's team; {timezone.now():%Y-%m-%d %H:%M} UTC")
    url = database_url_of_this_run()
    connection.close()

    environment = app_environment(database_url=url, broker_url="filesystem://localhost/", email_port=None,
                                  queue="load")
    environment.update(OUTBOX_NUDGE_WORKER="false", INLOOP_VAR_DIR=str(ROOT / "var" / "load"),
                       API_REQUESTS_PER_MINUTE=str(10**9))
    (ROOT / "var").mkdir(exist_ok=True)
    web = WebApp(environment, ROOT / "var" / "load-web.log")
    web.start()
    try:
        people = {"manager": Browser(web.url), "lead": Browser(web.url)}
        people["manager"].log_in(manager.username, PASSWORD)
        people["lead"].log_in(lead.username, PASSWORD)
        # The baseline and the inbox take turns, so a neighbour's load on the machine weighs on both alike.
        pairs = [run for _ in range(args.rounds) for run in (("baseline: /preferences/", "manager", ["/preferences/"]),
                                                            ("inbox", "manager", ["/"]))]
        runs = [
            ("issue page", "manager", [f"/issues/{pk}/" for pk in issues]),
            ("customer list", "manager", ["/customers/"]),
            ("customer page", "manager", [f"/customers/{slug}/" for slug in customers]),
            ("dashboard", "lead", [f"/dashboard/?team={team.pk}"]),
            ("search", "manager", ["/?q=webhook", "/?q=export", "/?q=sso"]),
            *([("GET /api/issues", "token", ["/api/issues"])] if token else []),
        ]
        for name, who, paths in [*pairs[:2], *runs]:  # every page answers 200 to this session before it is measured
            browser = people.get(who)
            status = browser.request(paths[0]).status if browser else api_status(web.url + paths[0], token)
            assert status == 200, (name, status)
        before = worker_memory(web.process.pid)
        results: dict[str, list[dict]] = defaultdict(list)
        for name, who, paths in [*pairs, *runs]:
            results[name].append(wrk(web.url, paths, cookie=cookie_of(people.get(who)),
                                     token=token if who == "token" else "", seconds=args.seconds,
                                     connections=args.connections))
        after_wrk = worker_memory(web.process.pid)
        print_wrk(results, args.seconds, args.connections)
        if args.mix:
            report(drive(web.url, manager.username, lead.username, team.pk, seconds=args.mix), args.mix)
        after = worker_memory(web.process.pid)
        print("web workers' resident memory (MB): " + "; ".join(
            f"worker {n + 1}: {b:.0f} before, {m:.0f} after wrk, {a:.0f} after the mix"
            for n, (b, m, a) in enumerate(zip(before, after_wrk, after, strict=False))))
    finally:
        web.stop()


def api_token(user) -> str:
    """A read-only API token for GET /api/issues, when the API is there."""
    try:
        from api.tokens import create_token
    except ImportError:
        return ""
    return create_token(user=user, name="Load benchmark", read_only=True).secret


def api_status(url: str, token: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def cookie_of(browser) -> str:
    if browser is None:
        return ""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookies)


def wrk(base: str, paths: list[str], *, cookie: str, token: str, seconds: int, connections: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        script, listed = Path(folder) / "paths.lua", Path(folder) / "paths.txt"
        script.write_text(WRK_SCRIPT)
        listed.write_text("\n".join(paths) + "\n")
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script)]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        if token:
            command += ["-H", f"Authorization: Bearer {token}"]
        output = subprocess.run([*command, base + paths[0]], capture_output=True, text=True, check=True,
                                env={**os.environ, "WRK_PATHS": str(listed)}).stdout
    requests, duration, errors, p50, p95 = re.search(r"RESULT (\S+) (\S+) (\S+) (\S+) (\S+)", output).groups()
    return {"rps": int(requests) / (int(duration) / 1e6), "errors": int(errors), "p50": float(p50),
            "p95": float(p95), "requests": int(requests), "seconds": int(duration) / 1e6}


def print_wrk(results: dict[str, list[dict]], seconds: int, connections: int) -> None:
    """One line per page: requests per second over all its runs, the median of its runs' p50 and p95."""
    print(f"wrk, 2 threads, {connections} connections, {seconds} s per run, one page at a time:")
    print(f"{'page':<26}{'runs':>5}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'requests':>10}{'errors':>8}")
    for name, runs in results.items():
        requests = sum(run["requests"] for run in runs)
        print(f"{name:<26}{len(runs):>5}{requests / sum(run['seconds'] for run in runs):>8.1f}"
              f"{statistics.median(run['p50'] for run in runs):>9.0f}"
              f"{statistics.median(run['p95'] for run in runs):>9.0f}{requests:>10}"
              f"{sum(run['errors'] for run in runs):>8}")
    shares = [inbox["rps"] / baseline["rps"] for baseline, inbox in
              zip(results["baseline: /preferences/"], results["inbox"], strict=True)]
    print(f"the inbox serves {statistics.median(shares):.0%} of the baseline's requests per second (median of "
          f"{len(shares)} turns: {', '.join(f'{share:.0%}' for share in shares)}; target: at least 50 %); errors: "
          f"{sum(run['errors'] for runs in results.values() for run in runs)}")


def worker_memory(master: int) -> list[float]:
    """Resident memory of gunicorn's workers (the master's children), in MB."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024
            for pid in sorted(children, key=int)]


def drive(base: str, manager: str, lead: str, team: int, *, seconds: int) -> dict[str, list]:
    """Each person loops: the inbox, an issue, sometimes a public update or (the lead) the dashboard."""
    from tests.faults.services import Browser

    results: dict[str, list] = defaultdict(list)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def person(username: str, seed: int) -> None:
        chance = random.Random(seed)
        browser = Browser(base)
        browser.log_in(username, PASSWORD)
        while time.monotonic() < deadline:
            inbox = browser.request(chance.choice(["/", "/?clock=breached", "/?severity=red", "/?page=3"]))
            record("inbox", inbox)
            links = [int(part.split("/")[0]) for part in inbox.body.split('href="/issues/')[1:]
                     if part.split("/")[0].isdigit()]
            if links:
                issue = chance.choice(links)
                record("issue page", browser.request(f"/issues/{issue}/"))
                if chance.random() < 0.25:
                    record("post update", browser.request(f"/issues/{issue}/update/",
                                                          {"update-body": "Still on it; next step tomorrow."}))
            if username == lead and chance.random() < 0.3:
                record("dashboard", browser.request(f"/dashboard/?team={team}"))

    def record(endpoint: str, answer) -> None:
        with lock:
            results[endpoint].append((answer.status, answer.seconds))

    threads = [threading.Thread(target=person, args=(username, seed))
               for seed, username in enumerate([manager, manager, manager, lead])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def report(results: dict[str, list], seconds: int) -> None:
    total = sum(len(answers) for answers in results.values())
    errors = sum(1 for answers in results.values() for status, _ in answers if status not in (200, 302))
    print(f"mixed reading and writing, 4 people, {seconds} s:")
    print(f"{'endpoint':<14} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for endpoint, answers in sorted(results.items()):
        times = sorted(duration * 1000 for _, duration in answers)
        cuts = statistics.quantiles(times, n=100) if len(times) > 1 else times * 99
        failed = sum(1 for status, _ in answers if status not in (200, 302))
        print(f"{endpoint:<14} {len(answers):>8} {len(answers) / seconds:>7.1f} {cuts[49]:>8.0f} {cuts[94]:>8.0f} "
              f"{cuts[98]:>8.0f} {failed:>7}")
    print(f"{'all':<14} {total:>8} {total / seconds:>7.1f}{'':>27} {errors:>7}")


if __name__ == "__main__":
    main()
