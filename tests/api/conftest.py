"""What the API tests share: a client that speaks JSON with a token, and an issue of Acme's."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.factories import make_api_token, make_issue


class Api:
    """The test client as a program uses the API: a bearer token, JSON in and out, no cookie."""

    def __init__(self, secret: str | None, **headers: str) -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
        self.headers |= headers

    def get(self, path: str, params: dict | None = None, **headers: str):
        return self.client.get(path, params or {}, **self.headers, **headers)

    def post(self, path: str, body: dict | None = None, **headers: str):
        data = json.dumps(body) if body is not None else ""
        return self.client.post(path, data, content_type="application/json", **self.headers, **headers)


@pytest.fixture(autouse=True)
def no_counts_carried_over():
    """Rate limits count in the cache: each test starts from none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def hana(manager, team):
    """Hana, account manager in Enterprise Support, through a read-write token."""
    return Api(make_api_token(manager, name="Hana's script"))


@pytest.fixture
def jisoo(lead, team):
    """Jisoo, the team's lead, through a read-write token."""
    return Api(make_api_token(lead, name="Jisoo's dashboard"))


@pytest.fixture
def olga(outsider):
    """Olga works in another team."""
    return Api(make_api_token(outsider, name="Olga's script"))


@pytest.fixture
def issue(customer, contact, manager):
    return make_issue(customer=customer, at=timezone.now() - timedelta(hours=2), reporter=contact, owner=manager,
                      title="Invoices export times out")
