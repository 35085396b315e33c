"""Personal API tokens: made on the preferences page or by the command, shown once, stored hashed, revoked by
their person only, and noted as used at most once a minute."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.tokens import hashed, recognise, touch
from tests.api.conftest import Api
from tests.factories import UserFactory, make_api_token

pytestmark = pytest.mark.django_db
SECRET = re.compile(r"inl_[A-Za-z0-9_-]{43}")


@pytest.fixture
def signed_in_hana(manager, team) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def form_token(page: str) -> str:
    return re.search(r'name="api_token-token" value="([0-9a-f]{32})"', page).group(1)


def test_a_token_made_on_the_preferences_page_is_shown_once_and_kept_only_as_a_hash(signed_in_hana, manager):
    page = signed_in_hana.get(reverse("preferences")).content.decode()
    made = signed_in_hana.post(reverse("preferences"), {"form": "api_token", "api_token-name": "CRM sync",
                                                 "api_token-read_only": "on", "api_token-token": form_token(page)})

    [secret] = SECRET.findall(made.content.decode())
    token = ApiToken.objects.get(user=manager)
    assert (token.name, token.read_only, token.hashed_secret) == ("CRM sync", True, hashed(secret))
    assert token.prefix == secret[:12] and secret not in str(vars(token))
    later = signed_in_hana.get(reverse("preferences")).content.decode()
    assert secret not in later and f"{token.prefix}…" in later and "read only" in later


def test_the_same_form_sent_twice_makes_one_token_and_says_its_secret_is_gone(signed_in_hana, manager):
    data = {"form": "api_token", "api_token-name": "Monitoring",
            "api_token-token": form_token(signed_in_hana.get(reverse("preferences")).content.decode())}
    signed_in_hana.post(reverse("preferences"), data)

    again = signed_in_hana.post(reverse("preferences"), data).content.decode()

    assert ApiToken.objects.filter(user=manager).count() == 1
    assert not SECRET.search(again) and "cannot be shown again" in again


def test_a_token_needs_a_name_and_the_page_says_so(signed_in_hana, manager):
    refused = signed_in_hana.post(reverse("preferences"), {"form": "api_token", "api_token-name": "\u3164 "})

    assert refused.status_code == 400 and not ApiToken.objects.exists()
    assert "Name the token after where it is used" in refused.content.decode()


def test_revoking_ones_own_token_shuts_it_and_anothers_is_not_found(signed_in_hana, manager, colleague, issue):
    mine, theirs = make_api_token(manager), make_api_token(colleague)

    revoked = signed_in_hana.post(reverse("preferences"), {"form": "revoke_api_token", "api_token": recognise(mine).pk})
    not_mine = signed_in_hana.post(reverse("preferences"), {"form": "revoke_api_token", "api_token": recognise(theirs).pk})

    assert revoked.status_code == 302 and not_mine.status_code == 404
    assert Api(mine).get("/api/issues").status_code == 401
    assert Api(theirs).get("/api/issues").status_code == 200
    assert "revoked" in signed_in_hana.get(reverse("preferences")).content.decode()


def test_the_command_prints_the_token_once_for_a_person(manager, team):
    out, err = StringIO(), StringIO()

    call_command("create_api_token", "hana", "--read-only", "--name", "Nightly export", stdout=out, stderr=err)

    secret = out.getvalue().strip()
    assert SECRET.fullmatch(secret) and "shown only this once" in err.getvalue()
    token = recognise(secret)
    assert (token.user, token.name, token.read_only) == (manager, "Nightly export", True)
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", stdout=StringIO(), stderr=StringIO())


def test_use_is_noted_at_most_once_a_minute(hana, manager):
    token = ApiToken.objects.get(user=manager)
    assert token.last_used_at is None

    hana.get("/api/customers")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    hana.get("/api/customers")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first

    stale = ApiToken.objects.get(pk=token.pk)
    stale.last_used_at = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale.last_used_at)
    touch(stale)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_an_admin_revokes_chosen_tokens_at_once_and_one_revoked_earlier_keeps_its_time(manager, colleague):
    leaked, others = make_api_token(manager), make_api_token(colleague)
    old = recognise(make_api_token(manager))
    earlier = timezone.now() - timedelta(days=3)
    ApiToken.objects.filter(pk=old.pk).update(revoked_at=earlier)
    admin = Client()
    admin.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    response = admin.post(reverse("admin:api_apitoken_changelist"),
                          {"action": "revoke", "_selected_action": [recognise(leaked).pk, old.pk]}, follow=True)

    assert "1 token revoked." in response.content.decode()
    assert recognise(leaked) is None and recognise(others) is not None
    assert ApiToken.objects.get(pk=old.pk).revoked_at == earlier
