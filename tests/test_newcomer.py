"""A newcomer's first hour: `make run` on a busy machine, demo data that can be brought up to now, and a first
dashboard whose numbers agree with each other."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from issues.models import Breach, EventKind, Issue, IssueEvent
from issues.reporting.compliance import compliance
from issues.reporting.counts import Moment
from issues.scan import scan_sla
from tests.factories import make_issue

ROOT = Path(__file__).resolve().parent.parent
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2025, 3, 11, 10, 0, tzinfo=SEOUL)
HOUR = timedelta(hours=1)


def make_dry_run(*targets: str, **variables: str) -> str:
    """What make would run, without running it (make -n), from a clean environment for PORT."""
    env = {key: value for key, value in os.environ.items() if key != "PORT"}
    result = subprocess.run(["make", "-n", "-B", *targets, *(f"{k}={v}" for k, v in variables.items())],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def quiet() -> object:
    return open(os.devnull, "w")


# --- make run on a machine where 8000 is taken ------------------------------------------------------------


def test_make_run_serves_on_the_port_the_newcomer_names():
    commands = make_dry_run("run", PORT="8123")

    assert "PORT=8123" in commands and "tracker.devserver" in commands
    assert "http://127.0.0.1:8123" in commands


def test_make_run_keeps_port_8000_when_none_is_named():
    assert "http://127.0.0.1:8000" in make_dry_run("run")


def test_the_development_server_binds_the_port_from_the_environment(monkeypatch):
    from tracker import devserver

    monkeypatch.setenv("PORT", "8123")
    try:
        assert importlib.reload(devserver).PROCESSES["web"][-1] == "127.0.0.1:8123"
    finally:
        monkeypatch.delenv("PORT")
        assert importlib.reload(devserver).PROCESSES["web"][-1] == "127.0.0.1:8000"


def test_links_in_emails_follow_the_port():
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='tracker.settings'; django.setup();"
            "from notifications.links import issue_link; print(issue_link(7))")
    env = {key: value for key, value in os.environ.items() if key not in {"SITE_URL", "PORT"}}
    moved = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                           check=False, env={**env, "DEBUG": "true", "PORT": "8123"})
    named = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                           check=False, env={**env, "DEBUG": "true", "PORT": "8123", "SITE_URL": "https://help.example.com"})

    assert moved.stdout.strip() == "http://127.0.0.1:8123/issues/7/", moved.stderr
    assert named.stdout.strip() == "https://help.example.com/issues/7/", named.stderr


# --- what make installs ---------------------------------------------------------------------------------------


def test_make_run_installs_only_what_running_needs():
    run = make_dry_run("run")
    test = make_dry_run("test")

    installs = [line for line in run.splitlines() if "pip install" in line and "-e" in line]
    assert installs and all(".[test]" not in line for line in installs)
    assert any('-e ".[test]"' in line for line in test.splitlines())


def test_make_demo_refreshes_the_demo_without_reinstalling():
    commands = make_dry_run("demo")

    assert "seed_demo --refresh" in commands
    assert '".[test]"' not in commands


# --- demo data that can be brought up to now ---------------------------------------------------------------


def demo_history() -> dict[str, object]:
    return {"opened": Issue.objects.order_by("created_at").values_list("created_at", flat=True).last(),
            "people": sorted(get_user_model().objects.values_list("pk", flat=True)),
            "issues": Issue.objects.count()}


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_make_demo_rewrites_the_demo_history_so_it_ends_now():
    call_command("seed_demo", issues=30, stdout=quiet())
    # A month passes: the demo's issues are a month old.
    Issue.objects.update(created_at=timezone.now() - timedelta(days=30))
    aged = demo_history()

    call_command("seed_demo", issues=30, refresh=True, stdout=quiet())

    fresh = demo_history()
    assert fresh["issues"] == aged["issues"] == 30
    assert fresh["people"] == aged["people"]  # the newcomer's logins stay
    assert timezone.now() - fresh["opened"] < timedelta(hours=9)  # the newest issues were opened today
    assert aged["opened"] < timezone.now() - timedelta(days=29)


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_demo_breaches_are_dated_when_their_clock_ran_out_not_when_the_demo_was_made():
    call_command("seed_demo", issues=120, stdout=quiet())

    breaches = list(Breach.objects.select_related("issue"))
    assert breaches, "the demo has overdue issues"
    for breach in breaches:
        assert breach.breached_at == breach.due_at
        column = "ack_breached_at" if breach.clock == "acknowledge" else "update_breached_at"
        assert getattr(breach.issue, column) == breach.due_at
    events = IssueEvent.objects.filter(kind=EventKind.CLOCK_BREACHED)
    assert events.count() == len(breaches)
    assert {(event.issue_id, event.at) for event in events} == {(b.issue_id, b.due_at) for b in breaches}


# --- the dashboard's compliance agrees with its breach count -------------------------------------------------


@pytest.mark.django_db
def test_a_breach_is_in_the_dashboards_compliance_the_moment_it_is_recorded(team, customer, manager):
    fire = make_issue(customer=customer, at=NOW - 3 * HOUR, severity="red", owner=manager)
    before = compliance(team, Moment.of(team, NOW - 2 * HOUR - 30 * 60 * timedelta(seconds=1)))
    assert before.rows[-1].acknowledge[0].missed == 0

    assert scan_sla(now=NOW - 2 * HOUR).breaches == 1  # due an hour after opening

    after = compliance(team, Moment.of(team, NOW - 2 * HOUR + 60 * timedelta(seconds=1)))
    assert after.rows[-1].acknowledge[0].missed == 1
    assert Breach.objects.get().issue == fire
