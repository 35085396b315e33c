"""Logging in safely: throttled guessing, fresh sessions, sessions that end when they should."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
PASSWORD = "correct horse battery"


def attempt(username: str, password: str, address: str = "10.0.0.1") -> object:
    return Client().post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def hana():
    return UserFactory(username="hana")


def test_five_wrong_passwords_lock_that_user_from_that_address_for_fifteen_minutes(hana):
    for _ in range(4):
        assert attempt("hana", "wrong").status_code == 200  # the form again, with its error
    assert attempt("hana", "wrong").status_code == 429  # the fifth failure locks

    locked = attempt("hana", PASSWORD)  # even the right password, now

    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    assert "Try again in 15 minutes" in locked.content.decode()


def test_the_lock_holds_only_that_pair(hana):
    UserFactory(username="daniel")
    for _ in range(5):
        attempt("hana", "wrong")

    assert attempt("hana", PASSWORD, address="10.0.0.2").status_code == 302  # same user, other address
    assert attempt("daniel", PASSWORD, address="10.0.0.1").status_code == 302  # other user, same address


def test_the_lock_lifts_after_fifteen_minutes(hana):
    for _ in range(5):
        attempt("hana", "wrong")
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))

    assert attempt("hana", PASSWORD).status_code == 302


def test_four_failures_then_a_success_start_the_count_again(hana):
    for _ in range(4):
        attempt("hana", "wrong")
    assert attempt("hana", PASSWORD).status_code == 302

    for _ in range(4):
        attempt("hana", "wrong")
    assert attempt("hana", PASSWORD).status_code == 302


def test_logging_in_gives_a_new_session_key(hana):
    browser = Client()
    browser.get(LOGIN)
    browser.session.save()
    before = browser.session.session_key

    browser.post(LOGIN, {"username": "hana", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")

    assert browser.session.session_key != before


def test_logging_out_ends_the_session(hana):
    browser = Client()
    browser.post(LOGIN, {"username": "hana", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    key = browser.session.session_key

    browser.post(reverse("logout"))

    assert not Session.objects.filter(session_key=key).exists()
    assert browser.get("/").status_code == 302


def test_a_deactivated_user_is_signed_out_on_their_next_request(hana):
    browser = Client()
    browser.post(LOGIN, {"username": "hana", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert browser.get("/").status_code == 200

    hana.is_active = False
    hana.save()

    assert browser.get("/").url.startswith(LOGIN)


def test_new_passwords_are_hashed_with_argon2(settings):
    from tracker import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS  # the suite swaps in a fast hasher; undo it here
    user = UserFactory(username="ada", password="a long and unusual passphrase")

    assert user.password.startswith("argon2")


def test_short_and_common_passwords_are_refused():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("short1", "password123"):
        with pytest.raises(ValidationError):
            validate_password(weak)
