"""Error pages in the product's layout: a plain reason and a way back, in the person's language."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_an_unknown_address_is_a_404_in_the_layout_with_a_way_back(client, manager):
    client.force_login(manager)

    response = client.get("/no-such-page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing to show here" in html
    assert f'href="{reverse("inbox")}"' in html and "Back to the inbox" in html
    assert 'class="navbar' in html
    assert "Resolver404" not in html


def test_the_dashboard_tells_a_non_lead_why_it_is_not_there(client, manager):
    client.force_login(manager)

    response = client.get(reverse("dashboard"))

    assert response.status_code == 404
    assert "Only team leads see the dashboard" in response.content.decode()


def test_a_missing_issue_gives_no_developer_message(client, manager):
    client.force_login(manager)

    response = client.get(reverse("issue_detail", kwargs={"pk": 999999}))

    html = response.content.decode()
    assert response.status_code == 404
    assert "Http404" not in html and "matches the given query" not in html


def test_the_404_page_speaks_korean_to_a_korean_reader(client, manager):
    client.force_login(manager)
    client.cookies["django_language"] = "ko"

    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ko")

    assert response.status_code == 404
    assert '<html lang="ko">' in response.content.decode()


def test_the_403_page_is_in_the_layout(rf):
    with translation.override("en"):
        html = render_to_string("403.html", {"exception": ""})

    assert "You may not do this" in html and "Back to the inbox" in html


def test_the_500_page_renders_without_a_request_and_asks_the_database_nothing():
    with CaptureQueriesContext(connection) as queries, translation.override("en"):
        html = render_to_string("500.html")

    assert len(queries) == 0
    assert "Something went wrong on our side" in html and "Back to the inbox" in html
    assert "Log out" not in html


def test_a_server_error_answers_with_the_500_page(client, manager, monkeypatch):
    from issues.views import inbox

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(inbox, "render_inbox", broken)
    client.raise_request_exception = False
    client.force_login(manager)

    response = client.get(reverse("inbox"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_admin_is_titled_inloop(admin_client, language):
    with translation.override(language):
        response = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=language)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Django administration" not in html and "Django site admin" not in html
    assert "Inloop" in html
