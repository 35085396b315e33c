"""Odd input never becomes a server error: ids that no row can have, dates at the ends of the calendar,
names longer than their column, and a signed-in person sent back to the login page.

A penetration test found each of these answering 500. The ids are one parser (``issues.ids``), the
dates one clamp (``issues.periods``); hypothesis generates the hostile values.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from issues import periods
from issues.ids import LARGEST_ID, parse_id
from issues.models import Issue, IssueEvent
from tests.factories import UserFactory, make_issue

pytestmark = pytest.mark.django_db
IN_A_TEST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PURE = settings(deadline=None)  # a busy machine must not turn a slow example into a failure

# Digits that str.isdigit() accepts but int() or the database do not: superscripts, Arabic-Indic,
# fullwidth, Devanagari, Bengali, Thai, circled.
FOREIGN_DIGITS = st.text(st.sampled_from("²³¹٠١٢٣٤٥٦٧٨٩０１２３４５６७८९০১๑๒①"), min_size=1, max_size=6)
BEYOND_64_BITS = st.integers(min_value=LARGEST_ID + 1, max_value=10**40)
NOT_AN_ID = st.one_of(FOREIGN_DIGITS, BEYOND_64_BITS.map(str), st.just("0"), st.just("-1"), st.just(""),
                      st.text(max_size=30).filter(lambda text: not text.isascii() or not text.isdigit()))


@pytest.fixture
def hana(manager, customer) -> Client:
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def jisoo(lead, customer) -> Client:
    client = Client()
    client.force_login(lead)
    return client


# --- one parser for ids ---------------------------------------------------------------------------

@PURE
@given(number=st.integers(min_value=1, max_value=LARGEST_ID))
def test_an_id_is_ascii_digits_naming_a_number_a_64_bit_column_holds(number):
    assert parse_id(str(number)) == number


@PURE
@given(value=NOT_AN_ID)
def test_digits_of_other_scripts_zero_negatives_and_numbers_beyond_64_bits_name_no_row(value):
    assert parse_id(value) is None


@PURE
@given(number=BEYOND_64_BITS)
def test_an_issue_address_with_an_id_beyond_64_bits_is_no_page_at_all(number):
    with pytest.raises(Resolver404):
        resolve(f"/issues/{number}/")
    with pytest.raises(Resolver404):
        resolve(f"/issues/{number}/update/")


def test_an_issue_address_with_the_largest_id_is_still_an_issue_page():
    assert resolve(f"/issues/{LARGEST_ID}/").url_name == "issue_detail"


@IN_A_TEST
@given(value=NOT_AN_ID)
def test_the_new_issue_page_with_a_customer_that_cannot_exist_in_its_address_just_offers_every_customer(
        hana, customer, value):
    response = hana.get(reverse("issue_new"), {"customer": value})

    assert response.status_code == 200
    assert response.context["form"].chosen_customer() is None


def test_the_new_issue_page_with_a_superscript_two_for_a_customer_is_not_a_server_error(hana, customer):
    response = hana.get(reverse("issue_new") + "?customer=%C2%B2")  # ²: isdigit() says yes, int() says no

    assert response.status_code == 200


@IN_A_TEST
@given(value=NOT_AN_ID)
def test_a_bulk_action_naming_an_issue_that_cannot_exist_is_refused_and_changes_nothing(hana, customer, value):
    issue = Issue.objects.first() or make_issue(customer=customer, at=timezone.now())
    events = IssueEvent.objects.count()

    response = hana.post(reverse("issue_bulk"), {"issues": [issue.pk, value], "action": "acknowledge"})

    assert response.status_code == 400
    assert IssueEvent.objects.count() == events


def test_a_bulk_action_on_issue_two_to_the_64_is_refused_not_a_server_error(hana, customer):
    response = hana.post(reverse("issue_bulk"), {"issues": [str(2**64)], "action": "acknowledge"})

    assert response.status_code == 400


@IN_A_TEST
@given(value=NOT_AN_ID.filter(bool))
def test_a_lead_asking_for_a_team_that_cannot_exist_gets_a_404(jisoo, team, value):
    assert jisoo.get(reverse("dashboard"), {"team": value}).status_code == 404


# --- one clamp for dates --------------------------------------------------------------------------

def csv_text(response) -> str:
    """The whole streamed CSV: an error while streaming would only show here."""
    return b"".join(response.streaming_content).decode("utf-8-sig")


@pytest.mark.parametrize("first, last", [("0001-01-01", "0001-01-01"), ("0001-01-01", "0001-12-31"),
                                         ("9999-01-01", "9999-12-31"), ("9999-12-31", "9999-12-31")])
def test_the_breach_export_of_a_period_at_either_end_of_the_calendar_is_an_empty_sheet(jisoo, team, first, last):
    response = jisoo.get(reverse("dashboard_breaches_csv"), {"team": team.pk, "first": first, "last": last})

    assert response.status_code == 200
    lines = csv_text(response).splitlines()
    assert len(lines) == 1 and lines[0].startswith("Issue,")  # the header: no breach in the period


@IN_A_TEST
@given(first=st.dates(), length=st.integers(min_value=0, max_value=365))
def test_any_period_of_up_to_a_year_exports_without_a_server_error(jisoo, team, first, length):
    assume(first <= date.max - timedelta(days=length))

    response = jisoo.get(reverse("dashboard_breaches_csv"),
                         {"team": team.pk, "first": first, "last": first + timedelta(days=length)})

    assert response.status_code == 200
    assert len(csv_text(response).splitlines()) == 1


@PURE
@given(first=st.dates(), last=st.dates(), zone=st.timezone_keys(allow_prefix=False))
def test_every_period_starts_and_ends_at_utc_instants_whatever_the_time_zone(first, last, zone):
    start, end = periods.local_span(first, last, ZoneInfo(zone))

    start.astimezone(UTC), end.astimezone(UTC)  # what SQLite stores; raises OverflowError for no instant
    assert start < end or first > last


@pytest.fixture
def admin() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_the_admin_drill_down_to_the_last_day_of_the_calendar_is_a_bad_filter_not_a_server_error(admin):
    refused = 0
    for address in ("/admin/issues/issue/?created_at__year=9999&created_at__month=12&created_at__day=31",
                    "/admin/issues/issue/?created_at__year=9999", "/admin/issues/issue/?created_at__year=1",
                    "/admin/issues/breach/?breached_at__year=9999&breached_at__month=12"):
        response = admin.get(address)
        assert response.status_code == 302 and response["Location"].endswith("?e=1"), address
        refused += 1
    assert refused == 4
    assert admin.get("/admin/issues/issue/?created_at__year=2025").status_code == 200


@pytest.mark.parametrize("address", [
    f"/admin/notifications/outboundemail/?created_at__year={2**64}",  # an admin registered after ours
    "/admin/axes/accessattempt/?attempt_time__year=9999&attempt_time__month=12",  # a library's admin
])
def test_every_admin_takes_an_impossible_drill_down_as_a_bad_filter(admin, address):
    response = admin.get(address)

    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.filterwarnings("ignore:DateTimeField AccessAttempt.attempt_time received a naive datetime")
def test_a_librarys_date_filter_at_the_first_day_of_the_calendar_is_no_server_error(admin):
    response = admin.get("/admin/axes/accessattempt/?attempt_time__gte=0001-01-01")

    assert response.status_code in (200, 302)  # PostgreSQL reads year 1; SQLite's UTC cannot: a bad filter


@pytest.mark.parametrize("model", ["issues/team", "issues/customer", "auth/user", "auth/group"])
def test_an_empty_to_field_in_an_admin_address_means_the_primary_key(admin, customer, manager, model):
    from django.contrib.auth.models import Group

    pk = {"issues/team": customer.team_id, "issues/customer": customer.pk, "auth/user": manager.pk,
          "auth/group": Group.objects.create(name="Support").pk}[model]

    assert admin.get(f"/admin/{model}/{pk}/change/?_to_field=").status_code == 200
    assert admin.get(f"/admin/{model}/{pk}/delete/?_to_field=").status_code == 200


# --- names longer than a column -------------------------------------------------------------------

def test_a_colleague_with_the_longest_first_and_last_names_can_own_and_update_an_issue(hana, customer, team):
    """Django allows 150 + 150 characters; the timeline's value column holds 200: the full name is cut
    on the timeline instead of failing the change (PostgreSQL refuses a value too long)."""
    long = UserFactory(username="long", first_name="가" * 150, last_name="나" * 150)
    team.members.add(long)
    issue = make_issue(customer=customer, at=timezone.now())

    response = hana.post(reverse("issue_assign", kwargs={"pk": issue.pk}), {"assign-owner": long.pk})

    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.owner == long
    assert IssueEvent.objects.filter(issue=issue, kind="assigned").get().new_value == ("가" * 150 + " " + "나" * 49)


@pytest.mark.parametrize("model, data, field, limit", [
    ("team", {"name": "x" * 101}, "name", 100),
    ("customer", {"name": "x" * 201, "slug": "long", "code": "LONG", "language": "en"}, "name", 200),
    ("contact", {"name": "x" * 201, "email": "a@example.com", "language": "en"}, "name", 200),
])
def test_the_admin_says_a_name_is_too_long_instead_of_failing_to_store_it(model, data, field, limit, customer):
    admin = Client()
    admin.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    data = {**data, "team": customer.team_id, "customer": customer.pk, "contacts-TOTAL_FORMS": 0,
            "contacts-INITIAL_FORMS": 0}

    response = admin.post(f"/admin/issues/{model}/add/", data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert f"at most {limit} characters" in " ".join(form.errors[field])


# --- the login page ---------------------------------------------------------------------------------

@pytest.mark.parametrize("next_url", ["/accounts/login/", "/accounts/login/?next=/accounts/login/",
                                      "/accounts/login/?next=/"])
def test_a_signed_in_person_sent_to_log_in_again_goes_home_instead_of_round_in_circles(hana, next_url):
    response = hana.get(reverse("login"), {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_signed_in_person_sent_to_log_in_on_the_way_to_a_page_goes_to_that_page(hana):
    response = hana.get(reverse("login"), {"next": "/customers/"})

    assert response.status_code == 302
    assert response["Location"] == "/customers/"


def test_logging_in_from_a_link_back_to_the_login_page_lands_on_the_inbox(manager):
    manager.set_password("correct horse battery")
    manager.save()

    response = Client().post(reverse("login") + "?next=/accounts/login/",
                             {"username": manager.username, "password": "correct horse battery"})

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("login_page", ["/accounts/login/", "/admin/login/"])
def test_a_username_longer_than_any_can_be_is_refused_on_the_login_form_and_no_attempt_is_logged(login_page):
    from axes.models import AccessAttempt

    response = Client().post(login_page, {"username": "x" * 3000, "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        "Ensure this value has at most 150 characters (it has 3000)."]
    assert not AccessAttempt.objects.exists()
