"""The promise, played out: eight weeks across Seollal 2026 on the default Seoul calendar, an hourly scan,
owners who forget and customers who never answer, and still no acknowledged customer may go more than seven
days without a message from us (tests/simulation.py; the full-size run is tests/benchmarks/silence.py).

The first version of this simulation found that a customer's answer stopped the update clock until a person
replied, so a customer whose answer was forgotten, or came just before Seollal, heard nothing more: the
update clock now runs through the answer's response cycle (issues.sla.update_clock)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from issues.models import Severity
from tests.simulation import LIMIT, SEOLLAL_WEEKS, Report, simulate, span

WEEKS = 8
# The mark makes pytest-django create the test database, which the module's run below uses.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def eight_weeks(django_db_setup, django_db_blocker) -> Report:
    """One smaller run shared by the module's tests (about twenty seconds on SQLite), rolled back afterwards
    like any test's data."""
    with django_db_blocker.unblock(), transaction.atomic():
        name = str(connection.settings_dict["NAME"])
        if "test" not in name and "memory" not in name:  # the module's mark should have made one
            raise RuntimeError(f"Not a test database: {name}")
        report = simulate(start=SEOLLAL_WEEKS, weeks=WEEKS, issues_per_day=1.5, seed=13)
        transaction.set_rollback(True)
    return report


def test_eight_weeks_hour_by_hour_exercise_every_rule_of_the_loop(eight_weeks):
    done = {name: eight_weeks.total(name) for name in ("updates", "waits", "answers", "reminders", "waits_ended",
                                                       "auto_emails", "closures", "breaches", "resolved")}
    issues = {severity: len(row.silences) for severity, row in eight_weeks.rows.items()}

    assert eight_weeks.scans == WEEKS * 7 * 24 + 1
    assert list(issues) == Severity.values and all(count >= 1 for count in issues.values()), issues
    assert done["updates"] > 0 and done["waits"] > 0 and done["answers"] > 0 and done["resolved"] > 0, done
    assert done["reminders"] > 0, done
    assert done["waits_ended"] > 0, done
    assert done["auto_emails"] > 0, done
    assert done["breaches"] > 0, done
    assert done["closures"] > 0 and eight_weeks.closure_notices > 0, done
    assert len(eight_weeks.silences) >= 40


def test_no_acknowledged_customer_goes_more_than_a_week_without_news_whatever_the_severity(eight_weeks):
    longest = {severity: row.longest for severity, row in eight_weeks.rows.items()}
    stories = "\n".join(
        f"{s.reference} ({s.severity}, {s.habit} owner): {span(s.longest)} from {s.began:%a %d %b %H:%M}\n    "
        + "\n    ".join(eight_weeks.stories.get(s.issue_id, []))
        for s in eight_weeks.over_limit())

    assert all(silence <= LIMIT for silence in longest.values()), f"{longest}\n{stories}"
    assert eight_weeks.longest(waited=True).longest <= LIMIT, stories
