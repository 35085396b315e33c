"""New issue, customers, login and language: the pages around the inbox."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from issues import services
from issues.models import Issue, Profile
from tests.factories import ContactFactory, CustomerFactory, make_issue
from tests.issues.views_helpers import ago, issues_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


def test_a_new_issue_is_owned_by_the_customers_account_manager_unless_someone_else_is_chosen(
        hana, customer, contact, colleague, manager):
    response = hana.post(reverse("issue_new"), {
        "customer": customer.pk, "reporter": contact.pk, "title": "Labels print blank",
        "description": "Since the update.", "severity": "orange", "owner": ""})
    issue = Issue.objects.get()
    assert response.status_code == 302 and response.url == issue.get_absolute_url()
    assert issue.owner == manager and issue.reporter == contact and issue.severity == "orange"

    hana.post(reverse("issue_new"), {"customer": customer.pk, "title": "Second", "severity": "blue",
                                     "owner": colleague.pk})
    assert Issue.objects.get(title="Second").owner == colleague


def test_a_missing_title_is_shown_next_to_the_field_and_everything_else_is_kept(hana, customer, contact):
    response = hana.post(reverse("issue_new"), {
        "customer": customer.pk, "reporter": contact.pk, "title": "  ",
        "description": "The labels come out blank.", "severity": "red"})

    html = response.content.decode()
    assert response.status_code == 400
    assert response.context["form"].errors["title"] == ["Give the issue a title."]
    assert "The labels come out blank." in html
    assert f'<option value="{contact.pk}" selected>' in html
    assert '<option value="red" selected>' in html
    assert not Issue.objects.exists()


def test_choosing_a_customer_narrows_the_contacts_and_proposes_its_account_manager(hana, customer, contact, manager):
    elsewhere = ContactFactory(customer=CustomerFactory(team=customer.team), name="Someone Else")

    html = hana.get(reverse("issue_new"), {"customer": customer.pk}).content.decode()
    everyone = hana.get(reverse("issue_new")).content.decode()

    assert "Grace Hopper" in html and "Someone Else" not in html
    assert f'<option value="{manager.pk}" selected>' in html
    assert "Grace Hopper (Acme Logistics)" in everyone and elsewhere.name in everyone


def test_a_contact_of_another_customer_is_refused(hana, customer, team):
    stranger = ContactFactory(customer=CustomerFactory(team=team))

    response = hana.post(reverse("issue_new"), {"customer": customer.pk, "reporter": stranger.pk,
                                                "title": "Mixed up", "severity": "blue"})

    assert response.status_code == 400
    assert not Issue.objects.exists()


@pytest.mark.parametrize("count", [10, 200])
def test_the_new_issue_page_runs_a_fixed_number_of_queries(hana, customer, count, django_assert_max_num_queries):
    for n in range(count):
        ContactFactory(customer=customer)

    with django_assert_max_num_queries(7):
        assert hana.get(reverse("issue_new"), {"customer": customer.pk}).status_code == 200


def test_the_customer_list_counts_open_issues_and_days_since_they_last_heard_from_us(
        hana, customer, contact, manager, outsider):
    quiet = CustomerFactory(team=customer.team, name="Quiet Co")
    heard = make_issue(customer=customer, at=ago(days=4))
    services.acknowledge(issue=heard, by=manager, now=ago(days=3))
    make_issue(customer=customer, at=ago(hours=1))
    CustomerFactory(team=outsider.teams.get(), name="Not ours")

    response = hana.get(reverse("customer_list"))

    html = response.content.decode()
    rows = {c.name: c for c in response.context["customers"]}
    assert set(rows) == {"Acme Logistics", "Quiet Co"}
    assert rows["Acme Logistics"].open_count == 2 and rows["Acme Logistics"].contact_count == 1
    assert "3 days ago" in html and "never" in html
    assert quiet.slug in html


def test_the_customer_page_shows_open_issues_contacts_and_silence(hana, customer, contact, manager):
    open_issue = make_issue(customer=customer, at=ago(hours=2), title="Still open")
    services.acknowledge(issue=open_issue, by=manager)  # Grace follows it: she heard today
    done = make_issue(customer=customer, at=ago(hours=3), title="All done")
    services.resolve(issue=done, by=manager, body="Fixed.")

    html = hana.get(reverse("customer_detail", kwargs={"slug": "acme"})).content.decode()

    open_part, past_part = html.split('id="past-title"')
    assert "Still open" in open_part and "All done" not in open_part
    assert "All done" in past_part  # a customer who calls back about it can be helped
    assert "Grace Hopper" in html and "grace@acme.example.com" in html
    assert "today" in html
    assert open_issue.get_absolute_url() in html


@pytest.mark.parametrize("count", [10, 200])
def test_the_customer_pages_run_a_fixed_number_of_queries(hana, customer, count, django_assert_max_num_queries):
    issues_for(customer, count)
    for n in range(count // 10):
        CustomerFactory(team=customer.team)

    with django_assert_max_num_queries(4):
        assert hana.get(reverse("customer_list")).status_code == 200
    with django_assert_max_num_queries(8):  # its open issues as the inbox reads a page: their ids, then their rows
        assert hana.get(reverse("customer_detail", kwargs={"slug": "acme"})).status_code == 200


def test_logging_in_applies_the_language_saved_on_the_profile(client, manager):
    Profile.objects.create(user=manager, language="ko")

    response = client.post(reverse("login"), {"username": "hana", "password": "correct horse battery"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"
    assert "수신함" in client.get(reverse("inbox")).content.decode()


def test_a_first_login_creates_the_profile_in_the_language_the_page_was_read_in(client, manager):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"

    client.post(reverse("login"), {"username": "hana", "password": "correct horse battery"})

    assert Profile.objects.get(user=manager).language == "ko"


def test_switching_language_is_remembered_for_the_next_login(hana, manager):
    response = hana.post(reverse("set_language"), {"language": "ko", "next": "/"})

    assert response.status_code == 302
    assert Profile.objects.get(user=manager).language == "ko"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"


def test_switching_to_an_unknown_language_changes_nothing(hana, manager):
    hana.post(reverse("set_language"), {"language": "xx", "next": "/"})

    assert not Profile.objects.filter(user=manager).exists()


def test_the_login_page_is_styled_and_logging_out_needs_a_post(client, manager):
    assert "Log in to Inloop" in client.get(reverse("login")).content.decode()
    client.force_login(manager)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("inbox")).status_code == 302
