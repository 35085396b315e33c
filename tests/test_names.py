"""Names are one line of visible text: a contact's, a customer's, a team's and a colleague's.

A name travels into email headers ("Grace Hopper <grace@…>"), CSV rows, the inbox and the timeline. A
line break in it can start a new header or row, a NUL cannot be stored in PostgreSQL, a right-to-left
override turns the rest of a line around. So a name with a control character is refused where it is
typed — the model field's validator, which every ModelForm and the admin run — with a clear message.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issues.models import Contact, Customer, Team
from issues.text import validate_name
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
IN_A_TEST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PURE = settings(deadline=None)  # a busy machine must not turn a slow example into a failure

ONE_LINE = "Write the name on one line, without line breaks, tabs or other control characters."
CONTROLS = st.sampled_from(["\r", "\n", "\r\n", "\x00", "\t", "\u2028", "\u2029", "\x0b", "\x1b", "\x7f", "\x85",
                            "\u202e", "\u2066"])
NAME_PART = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1,
                    max_size=20).map(lambda part: part.replace("\u202e", "").replace("\u2066", ""))
NAME_WITH_A_CONTROL = st.builds(lambda before, control, after: f"Grace{before}{control}{after}",
                                NAME_PART, CONTROLS, NAME_PART)


@PURE
@given(name=NAME_WITH_A_CONTROL)
def test_a_name_with_a_line_break_tab_nul_or_other_control_character_is_refused(name):
    with pytest.raises(ValidationError) as refused:
        validate_name(name)

    assert refused.value.messages == [ONE_LINE]


@pytest.mark.parametrize("name", ["Grace Hopper", "김지수", "Zoë Ångström-Ødegård", "O'Brien & Sons, Ltd.",
                                  "محمد", "Family \U0001f468\u200d\U0001f469\u200d\U0001f467 Shop"])
def test_names_in_every_script_with_their_joiners_are_welcome(name):
    validate_name(name)


@pytest.mark.parametrize("name", ["\u200b", "\u3164\u3164", "\u115f\u1160", "\ufeff", "\u00ad"])
def test_a_name_that_draws_nothing_is_refused(name):
    with pytest.raises(ValidationError) as refused:
        validate_name(name)

    assert refused.value.messages == ["Write a name with at least one visible character."]


@IN_A_TEST
@given(name=NAME_WITH_A_CONTROL)
def test_contact_customer_and_team_names_with_control_characters_do_not_pass_model_validation(customer, name):
    for row in (Contact(customer=customer, name=name, email="grace@acme.example.com"),
                Customer(name=name, slug="x", code="XY", team=customer.team),
                Team(name=name)):
        with pytest.raises(ValidationError) as refused:
            row.full_clean()
        assert ONE_LINE in refused.value.message_dict["name"]


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.mark.parametrize("model, data", [
    ("team", {}),
    ("customer", {"slug": "globex", "code": "GLOBEX", "language": "en", "contacts-TOTAL_FORMS": 0,
                  "contacts-INITIAL_FORMS": 0}),
    ("contact", {"email": "hank@globex.example.com", "language": "en"}),
])
def test_the_admin_refuses_a_name_with_a_line_break_and_keeps_what_was_typed(admin_client, customer, model, data):
    typed = "Hank Scorpio\r\nBcc: everyone@example.com"

    response = admin_client.post(f"/admin/issues/{model}/add/",
                                 {"name": typed, "team": customer.team_id, "customer": customer.pk, **data})

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["name"] == [ONE_LINE]
    assert form["name"].value() == typed


def test_the_admin_refuses_a_contact_name_with_a_tab_in_the_customer_page_too(admin_client, customer):
    response = admin_client.post(f"/admin/issues/customer/{customer.pk}/change/", {
        "name": customer.name, "slug": customer.slug, "code": customer.code, "team": customer.team_id,
        "language": "en", "contacts-TOTAL_FORMS": 1, "contacts-INITIAL_FORMS": 0,
        "contacts-0-name": "Grace\tHopper", "contacts-0-email": "grace@acme.example.com", "contacts-0-language": "en",
    })

    assert response.status_code == 200
    [contact_errors] = response.context["inline_admin_formsets"][0].formset.errors
    assert contact_errors["name"] == [ONE_LINE]
    assert not Contact.objects.exists()


@pytest.mark.parametrize("field", ["first_name", "last_name"])
@pytest.mark.parametrize("typed", ["Hana\nLee", "Hana\x00", "\u202eeeL anaH", "\u3164"])
def test_the_admin_refuses_a_colleagues_first_or_last_name_with_control_characters(admin_client, manager, field,
                                                                                  typed):
    data = {"username": manager.username, "first_name": manager.first_name, "last_name": manager.last_name,
            "email": manager.email, "is_active": "on", "date_joined_0": "2025-01-01", "date_joined_1": "09:00:00",
            "profile-TOTAL_FORMS": 0, "profile-INITIAL_FORMS": 0, field: typed}

    response = admin_client.post(f"/admin/auth/user/{manager.pk}/change/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    manager.refresh_from_db()
    assert getattr(manager, field) != typed


def test_the_admin_still_saves_a_colleagues_ordinary_korean_name(admin_client, manager):
    data = {"username": manager.username, "first_name": "하나", "last_name": "이", "email": manager.email,
            "is_active": "on", "date_joined_0": "2025-01-01", "date_joined_1": "09:00:00",
            "profile-TOTAL_FORMS": 0, "profile-INITIAL_FORMS": 0}

    response = admin_client.post(f"/admin/auth/user/{manager.pk}/change/", data)

    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.get_full_name() == "하나 이"


@pytest.mark.parametrize("email, accepted", [
    ("jisoo@한국.kr", True),
    ("grace@acme.example.com", True),
    ("a@b@c.example", False),
    ("grace\r\n@acme.example.com", False),
    ("grace@acme.example.com\nBcc: x@evil.example", False),
    ("gr\x00ace@acme.example.com", False),
    ("grace\u2028@acme.example.com", False),
    ("\u202egrace@acme.example.com", False),
])
def test_the_admin_takes_an_international_address_and_refuses_one_with_two_ats_or_control_characters(
        admin_client, customer, email, accepted):
    response = admin_client.post("/admin/issues/contact/add/", {"customer": customer.pk, "name": "Jisoo Kim",
                                                                "email": email, "language": "ko"})

    assert (response.status_code == 302) is accepted, response.context and response.context["adminform"].form.errors
    assert Contact.objects.filter(name="Jisoo Kim").exists() is accepted
