"""Shared fixtures: the people of a team, a customer, and helpers that tell time explicitly."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from issues.defaults import create_default_policies
from issues.models import SlaPolicy
from tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory
from tests.mailserver import MailServer

# Playwright's sync API runs an event loop in the test thread; Django must still allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def required_in_ci() -> set[str]:
    """Under CI these must run, not be skipped: a skipped PostgreSQL or browser test would hide a red
    build. PostgreSQL and Redis are required in the run whose environment names them."""
    required = {"browser", "imap"}
    if os.environ.get("DATABASE_URL"):
        required.add("postgres")
    if os.environ.get("CELERY_BROKER_URL"):
        required.add("broker")
    return required


def pytest_collection_modifyitems(config, items) -> None:
    on_postgres = connection.vendor == "postgresql"
    skip_postgres = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_postgres)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if os.environ.get("CI", "").lower() not in {"1", "true", "yes"}:
        return
    skipped = [
        report.nodeid
        for report in terminalreporter.stats.get("skipped", [])
        if required_in_ci() & set(report.keywords)
    ]
    if skipped:
        terminalreporter.write_line(f"CI: {len(skipped)} required tests were skipped:", red=True, bold=True)
        for nodeid in skipped:
            terminalreporter.write_line(f"  {nodeid}", red=True)
        config._inloop_required_skipped = True


def pytest_sessionfinish(session, exitstatus) -> None:
    if getattr(session.config, "_inloop_required_skipped", False) and exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def test_settings(settings):
    """Real hashers are slow on purpose and the suite creates many users; static files are served
    unhashed so pages render without a collectstatic run (test_project checks the manifest build)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Delivery is exercised directly; the tests that run a real worker turn the nudge back on.
    settings.OUTBOX_NUDGE_WORKER = False


@pytest.fixture(autouse=True)
def default_sla_policies(request):
    """Transactional tests (threads, live servers, workers) empty every table when they finish, the
    rows of data migrations included: put the default SLA policies back before such a test."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db")
        create_default_policies(SlaPolicy)


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1, with Django's SMTP backend pointed at it."""
    server = MailServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def lead(db):
    return UserFactory(username="jisoo", first_name="Jisoo", last_name="Kim")


@pytest.fixture
def manager(db):
    return UserFactory(username="hana", first_name="Hana", last_name="Lee")


@pytest.fixture
def colleague(db):
    return UserFactory(username="daniel", first_name="Daniel", last_name="Cho")


@pytest.fixture
def outsider(db):
    """Works in another team: must never see or own our customers' issues."""
    other_team = TeamFactory(name="Other team")
    user = UserFactory(username="olga", first_name="Olga", last_name="Other")
    other_team.members.add(user)
    return user


@pytest.fixture
def team(lead, manager, colleague):
    team = TeamFactory(name="Enterprise Support", lead=lead)
    team.members.add(manager, colleague)
    return team


@pytest.fixture
def customer(team, manager):
    return CustomerFactory(name="Acme Logistics", code="ACME", slug="acme", team=team, account_manager=manager)


@pytest.fixture
def contact(customer):
    """Acme's main contact: she follows all of Acme's issues, so she hears about those she did not report."""
    return ContactFactory(customer=customer, name="Grace Hopper", email="grace@acme.example.com", language="en",
                          follows_all_issues=True)
