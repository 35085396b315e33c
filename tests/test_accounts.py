"""Logging in safely: throttled guessing, fresh sessions, sessions that end when they should."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from issues.models import EventKind, IssueEvent
from tests.factories import UserFactory, make_issue
from tracker.env import client_address_settings

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


# --- password spraying: one address, many usernames ---------------------------------------------


def test_an_address_that_fails_across_twenty_usernames_is_locked_for_every_username(hana, settings):
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert limit == 20
    for n in range(limit - 1):
        assert attempt(f"user{n}", "Winter2026!").status_code == 200  # no one username reaches five
    assert attempt("user19", "Winter2026!").status_code == 429  # the twentieth failure locks the address

    locked = attempt("hana", PASSWORD)  # even a real user with the right password, from that address

    assert locked.status_code == 429
    assert "Log-ins from your address are paused after too many failures across accounts" in locked.content.decode()
    assert attempt("hana", PASSWORD, address="10.0.0.2").status_code == 302  # another address logs in


def test_a_sprayer_cannot_wipe_its_count_by_logging_in_to_an_account_of_its_own(hana, settings):
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT - 1):
        attempt(f"user{n}", "Winter2026!")
    assert attempt("hana", PASSWORD).status_code == 302  # resets hana's own count at this address, only

    assert attempt("user99", "Winter2026!").status_code == 429


def test_the_address_limit_forgets_failures_older_than_fifteen_minutes(hana, settings):
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        attempt(f"user{n}", "Winter2026!")
    assert attempt("hana", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16))

    assert attempt("hana", PASSWORD).status_code == 302


# --- behind the proxy: the client is the address our proxy appended -------------------------------

PROXY = "10.0.0.254"


@pytest.fixture
def behind_proxy(settings):
    """What BEHIND_PROXY=true sets at import (test_operations checks the switch itself in a fresh process)."""
    for name, value in client_address_settings(True).items():
        setattr(settings, name, value)


def through_proxy(username: str, password: str, *, client: str, forwarded: str = "") -> object:
    """What our proxy passes on: whatever X-Forwarded-For the client sent, with the client's address appended."""
    header = f"{forwarded}, {client}" if forwarded else client
    return Client().post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=PROXY,
                         HTTP_X_FORWARDED_FOR=header)


def test_behind_the_proxy_each_client_is_throttled_at_its_own_address(hana, behind_proxy):
    for _ in range(5):
        through_proxy("hana", "wrong", client="203.0.113.7")

    assert through_proxy("hana", PASSWORD, client="203.0.113.7").status_code == 429
    assert through_proxy("hana", PASSWORD, client="198.51.100.20").status_code == 302  # not everyone behind the proxy
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


# Text a client may put in its own X-Forwarded-For: addresses, lists, quotes, RFC 7239 words, junk.
forged_headers = st.text(alphabet=st.sampled_from('0123456789abcdef.:,;="[] \\for_unknown'), max_size=60)


def test_behind_the_proxy_nothing_a_client_prepends_lets_it_escape_its_lock(hana, behind_proxy):
    for _ in range(5):
        through_proxy("hana", "wrong", client="203.0.113.7")
    tried = []

    @examples(max_examples=80, deadline=None)
    @example("198.51.100.20")
    @example("198.51.100.20, 192.0.2.1")
    @example('198.51.100.20, "')  # an unclosed quote: ipware 8's default parser then swallows our proxy's entry
    @example('for="198.51.100.20')
    @example("unknown")
    @given(forged_headers)
    def still_locked(forged: str) -> None:
        tried.append(forged)
        assert through_proxy("hana", PASSWORD, client="203.0.113.7", forwarded=forged).status_code == 429

    still_locked()

    assert len(tried) > 50
    # Nor did the forger lock out an address it named.
    assert through_proxy("hana", PASSWORD, client="198.51.100.20").status_code == 302


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


def test_a_form_sent_from_a_page_left_open_after_the_session_ended_takes_the_window_to_the_login_page(customer):
    """htmx would follow the redirect and swap the login page into the issue page; the whole window goes
    there instead, and comes back to the issue page after logging in (the typed text waits in the draft)."""
    issue = make_issue(customer=customer, at=timezone.now())

    response = Client().post(f"/issues/{issue.pk}/compose/", {"compose-body": "We are on it."},
                             HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver/issues/{issue.pk}/?x=1")

    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == f"/accounts/login/?next=%2Fissues%2F{issue.pk}%2F%3Fx%3D1"
    assert not IssueEvent.objects.filter(issue=issue, kind=EventKind.PUBLIC_UPDATE).exists()
    # A page of another site named as "current" is not where the login returns to.
    elsewhere = Client().post(f"/issues/{issue.pk}/compose/", {}, HTTP_HX_REQUEST="true",
                              HTTP_HX_CURRENT_URL="https://evil.example.com/phish/")
    assert elsewhere["HX-Redirect"] == "/accounts/login/?next=%2F"
    # Without htmx, the plain redirect stays.
    assert Client().post(f"/issues/{issue.pk}/compose/", {}).status_code == 302
