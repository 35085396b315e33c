"""Running it for real: health checks, logs, timeouts, production security settings."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, OperationalError, connection
from django.utils import timezone, translation

from issues.models import Heartbeat
from issues.scan import SCAN_HEARTBEAT, scan_sla
from tracker.env import broker_transport_options
from tracker.middleware import DatabaseUnavailableMiddleware

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "k" * 20 + "a-long-random-production-secret-0123456789",
              "ALLOWED_HOSTS": "inloop.example.com", "DJANGO_SETTINGS_MODULE": "tracker.settings"}


def production_environment() -> dict[str, str]:
    """This machine's environment without the test run's own switches (the async escape hatch that the
    browser tests need, DEBUG, keys), plus the production essentials."""
    dropped = {"DEBUG", "SECRET_KEY", "HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**{key: value for key, value in os.environ.items() if key not in dropped}, **PRODUCTION}


def manage(*arguments: str, **env: str) -> subprocess.CompletedProcess:
    clean = production_environment()
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


# --- health ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_is_ok_when_the_database_and_broker_answer_and_the_scan_runs(client):
    scan_sla()

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["broker"] == "ok"
    assert 0 <= body["last_sla_scan_age_seconds"] < 5


@pytest.mark.django_db
def test_a_stalled_scan_shows_as_degraded_but_the_app_still_serves(client):
    Heartbeat.beat(SCAN_HEARTBEAT, timezone.now() - timedelta(minutes=30))

    body = client.get("/healthz").json()

    assert body["status"] == "degraded"
    assert body["last_sla_scan_age_seconds"] >= 30 * 60


@pytest.mark.django_db
def test_an_unreachable_broker_shows_as_degraded_quickly(client, settings):
    scan_sla()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on port 9

    started = timezone.now()
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["broker"] == "unreachable" and response.json()["status"] == "degraded"
    assert timezone.now() - started < timedelta(seconds=3)


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(connection, "cursor", unreachable)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


@pytest.mark.parametrize(("method", "says"), [
    ("post", "nothing you just sent was saved"),
    # A page load may follow a save that did commit: it must not claim otherwise and invite a duplicate.
    ("get", "Reload this page in a few seconds"),
])
def test_a_lost_database_answers_503_and_says_whether_a_form_was_lost(rf, method, says):
    request = getattr(rf, method)("/issues/new/")

    with translation.override("en"):
        response = DatabaseUnavailableMiddleware(lambda request: None).process_exception(
            request, OperationalError("server closed the connection unexpectedly"))

    assert response.status_code == 503 and response.headers["Retry-After"] == "15"
    assert says in response.content.decode()
    assert ("nothing you just sent was saved" in response.content.decode()) == (method == "post")


def test_every_network_call_has_a_timeout(settings):
    assert settings.DATABASES["default"].get("OPTIONS", {}).get("connect_timeout", 5) <= 5
    assert settings.EMAIL_TIMEOUT <= 10
    assert settings.CELERY_BROKER_CONNECTION_TIMEOUT <= 2
    redis = broker_transport_options("redis://redis.internal:6379/0", Path("unused"))
    assert redis["socket_connect_timeout"] <= 2 and redis["socket_timeout"] <= 3  # tests/test_timeouts.py
    assert settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"] <= 1
    assert not getattr(settings, "CELERY_RESULT_BACKEND", None)  # nothing else to wait for


# --- logs -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_request_leaves_one_structured_log_line_with_its_duration(client, caplog, customer, manager):
    from tests.factories import make_issue

    issue = make_issue(customer=customer, at=timezone.now())
    client.force_login(manager)

    with caplog.at_level(logging.INFO, logger="inloop.request"):
        client.get(f"/issues/{issue.pk}/")

    (record,) = [r for r in caplog.records if r.name == "inloop.request"]
    assert (record.method, record.path, record.status, record.issue) == ("GET", f"/issues/{issue.pk}/", 200,
                                                                           issue.pk)
    assert record.user == manager.pk and record.duration_ms > 0
    from tracker.logs import KeyValueFormatter

    line = KeyValueFormatter().format(record)
    assert f"path=/issues/{issue.pk}/" in line and "status=200" in line and f"issue={issue.pk}" in line


@pytest.mark.django_db
def test_a_customer_page_link_never_reaches_the_logs(client, caplog, customer, contact):
    """Whoever reads the logs must not be able to open Grace's page or act in her name."""
    from notifications.links import customer_page_path
    from tests.factories import make_issue

    issue = make_issue(customer=customer, reporter=contact, at=timezone.now())
    path = customer_page_path(issue.pk, contact.pk, address=contact.email, generation=contact.page_links_generation)
    token = path.strip("/").split("/")[-1]

    with caplog.at_level(logging.INFO, logger="inloop.request"):
        assert client.get(path).status_code == 200

    (record,) = [r for r in caplog.records if r.name == "inloop.request"]
    assert record.path == path.replace(token, "[token]") and token not in record.path


@pytest.mark.django_db
def test_each_task_leaves_one_log_line_with_what_it_did(caplog):
    from issues.tasks import scan_sla_task

    with caplog.at_level(logging.INFO, logger="inloop.task"):
        scan_sla_task.apply()

    (record,) = [r for r in caplog.records if r.name == "inloop.task"]
    assert record.task == "issues.tasks.scan_sla_task" and record.state == "SUCCESS"
    assert record.result == {"warnings": 0, "breaches": 0, "auto_emails": 0, "waiting_reminders": 0,
                             "waits_ended": 0, "deadline_warnings": 0, "promises_broken": 0, "escalations": 0}


# --- security -------------------------------------------------------------------------------------


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_redirects_to_https_but_lets_the_load_balancer_probe_over_http():
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_REDIRECT_EXEMPT, s.PASSWORD_HASHERS[0])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=production_environment(),
                            capture_output=True, text=True, timeout=60)

    assert result.stdout.strip().split(maxsplit=5) == [
        "True", "31536000", "True", "True", "['^healthz$']", "django.contrib.auth.hashers.Argon2PasswordHasher"]


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_that_allows_only_our_own_files(client):
    response = client.get("/accounts/login/")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = response.content.decode()
    assert "<script>" not in page and " onchange=" not in page and " onclick=" not in page


def in_production(code: str, **env: str) -> str:
    """Run `code` after django.setup() in a fresh process with production's environment: settings are
    read at import, so this is the only honest way to see what an environment variable switches."""
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code], cwd=ROOT,
                            env={**production_environment(), **env}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_language_cookie_is_secure_http_only_and_same_site_in_production():
    cookie = in_production(
        "from django.contrib.auth.models import AnonymousUser\n"
        "from django.test import RequestFactory\n"
        "from issues.views.account import set_language\n"
        "request = RequestFactory().post('/i18n/setlang/', {'language': 'ko', 'next': '/'}, secure=True,\n"
        "                               HTTP_HOST='inloop.example.com')\n"
        "request.user = AnonymousUser()\n"
        "morsel = set_language(request).cookies['django_language']\n"
        "print(morsel.value, bool(morsel['secure']), bool(morsel['httponly']), morsel['samesite'])")

    assert cookie.split() == ["ko", "True", "True", "Lax"]


@pytest.mark.parametrize(("behind_proxy", "counted_as"), [
    ("false", "10.0.0.254"),  # reached directly: the socket's address (here, the proxy's)
    ("true", "203.0.113.7"),  # behind our proxy: the entry it appended, whatever the client wrote before it
])
def test_behind_proxy_makes_login_throttling_count_the_address_our_proxy_appended(behind_proxy, counted_as):
    address = in_production(
        "from axes.helpers import get_client_ip_address\n"
        "from django.test import RequestFactory\n"
        "request = RequestFactory().post('/accounts/login/', REMOTE_ADDR='10.0.0.254',\n"
        "                                HTTP_X_FORWARDED_FOR='198.51.100.20, \"for=1.2.3.4, 203.0.113.7')\n"
        "print(get_client_ip_address(request))", BEHIND_PROXY=behind_proxy)

    assert address == counted_as


@pytest.mark.django_db
def test_a_page_that_answers_htmx_with_a_fragment_tells_caches_it_depends_on_htmx(client, customer, manager):
    from tests.factories import make_issue

    issue = make_issue(customer=customer, at=timezone.now())
    client.force_login(manager)
    checked = 0
    for url in ("/", f"/issues/{issue.pk}/"):
        page = client.get(url)
        fragment = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-results")

        assert page.content != fragment.content  # same URL, two answers
        for response in (page, fragment):
            vary = {name.strip() for name in response.headers["Vary"].split(",")}
            assert {"HX-Request", "HX-Target", "HX-History-Restore-Request"} <= vary
            checked += 1

    assert checked == 4

