"""The project as a whole: settings, checks, migrations, demo data, health, admin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from issues.models import Breach, Contact, Customer, Issue, IssueEvent, SlaPolicy, Team
from tests.factories import UserFactory, make_issue

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean_env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean_env, **env},
                          capture_output=True, text=True, timeout=60)


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off():
    result = run_python("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='tracker.settings'; django.setup()",
                        DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_settings_start_with_a_secret_key_and_debug_off():
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='tracker.settings'; django.setup();"
        "from django.conf import settings; print(settings.DEBUG, settings.TIME_ZONE, settings.USE_TZ)",
        DEBUG="false", SECRET_KEY="a-real-secret-from-the-environment",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "Asia/Seoul", "True"]


def test_settings_offer_english_and_korean(settings):
    assert [code for code, _name in settings.LANGUAGES] == ["en", "ko"]


def test_the_system_check_is_clean():
    call_command("check", fail_level="WARNING")


def test_static_files_collect_into_a_hashed_manifest_for_production(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}

    call_command("collectstatic", "--noinput", verbosity=0)

    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/bootstrap/bootstrap.min.*.css"))


@pytest.mark.django_db
def test_every_model_change_has_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_the_default_sla_policies_keep_within_the_missions_ceiling():
    policies = {policy.severity: policy for policy in SlaPolicy.objects.all()}

    assert set(policies) == {"red", "orange", "blue", "green"}
    for policy in policies.values():
        policy.full_clean()
        assert 0 < policy.warn_at < 1
    assert not policies["red"].business_time and not policies["orange"].business_time
    assert policies["blue"].business_time and policies["green"].business_time


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_suite_runs_on_postgresql_when_database_url_says_so():
    assert connection.vendor == "postgresql"
    assert os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://"))


# --- demo data ------------------------------------------------------------------------------------


def table_state() -> dict[str, object]:
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Team, Customer, Contact, Issue, IssueEvent, Breach)
    } | {"issues": list(Issue.objects.order_by("pk").values())}


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_creates_the_demo_and_a_second_run_changes_nothing():
    call_command("seed_demo", issues=40, stdout=open(os.devnull, "w"))
    first = table_state()

    call_command("seed_demo", issues=40, stdout=open(os.devnull, "w"))

    assert table_state() == first
    assert Team.objects.count() == 2
    assert Issue.objects.count() == 40
    assert {"manager", "lead", "admin"} <= set(
        UserFactory._meta.model.objects.values_list("username", flat=True)
    )
    lead = UserFactory._meta.model.objects.get(username="lead")
    assert lead.check_password("inloop-demo")
    assert Team.objects.get(lead=lead).members.filter(username="manager").exists()
    assert Contact.objects.filter(language="ko").exists() and Contact.objects.filter(language="en").exists()


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not Issue.objects.exists()


# --- admin -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_admin_page_opens_for_an_admin(client, customer, contact, manager):
    issue = make_issue(customer=customer, at=customer.created_at)
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)

    pages = [reverse(f"admin:issues_{name}_changelist") for name in
             ("team", "customer", "contact", "slapolicy", "issue", "issueevent", "breach")]
    pages += [
        reverse("admin:issues_issue_change", args=[issue.pk]),
        reverse("admin:issues_customer_change", args=[customer.pk]),
        reverse("admin:issues_slapolicy_change", args=[SlaPolicy.objects.get(severity="red").pk]),
        reverse("admin:issues_team_change", args=[customer.team.pk]),
        reverse("admin:auth_user_change", args=[manager.pk]),
    ]
    for page in pages:
        assert client.get(page).status_code == 200, page


@pytest.mark.django_db
def test_an_admin_cannot_set_a_policy_beyond_the_missions_ceiling(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    red = SlaPolicy.objects.get(severity="red")

    response = client.post(reverse("admin:issues_slapolicy_change", args=[red.pk]), {
        "business_time": "", "warn_at": "0.75", "auto_status_email": "on",
        "acknowledge_within": "2 00:00:00", "update_every": "1 00:00:00",
        "fallback_acknowledge_within": "", "fallback_update_every": "",
    })

    assert response.status_code == 200
    assert "within one day at most" in response.content.decode()
    red.refresh_from_db()
    assert red.acknowledge_within.total_seconds() == 3600


@pytest.mark.django_db
def test_the_login_page_is_styled_and_translated(client):
    english = client.get("/accounts/login/")
    korean = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ko")

    assert english.status_code == 200 and "Log in to Inloop" in english.content.decode()
    assert "Inloop에 로그인" in korean.content.decode()
