"""Playwright against Debian's chromium and a live server. Screenshots land in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(config, items) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install -y chromium")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1360, "height": 900}, "timezone_id": "Asia/Seoul"}


@pytest.fixture(autouse=True)
def no_content_security_policy_violations(page: Page):
    """Every browser test doubles as a check that our pages need nothing the CSP forbids."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield
    assert not refused, refused


@pytest.fixture
def people(transactional_db):
    """The demo's cast: `manager` and a colleague in Enterprise Support, with two customers."""
    manager = UserFactory(username="manager", first_name="Hana", last_name="Lee", password=PASSWORD)
    colleague = UserFactory(username="daniel", first_name="Daniel", last_name="Cho")
    team = TeamFactory(name="Enterprise Support", lead=UserFactory(username="lead", first_name="Jisoo",
                                                                      last_name="Kim"))
    team.members.add(manager, colleague)
    acme = CustomerFactory(name="Acme Logistics", code="ACME", slug="acme", team=team, account_manager=manager)
    hanbit = CustomerFactory(name="Hanbit Bank", code="HANBIT", slug="hanbit", team=team, account_manager=manager,
                             language="ko")
    # Both hear about every issue of their company.
    ContactFactory(customer=acme, name="Grace Hopper", email="grace@acme.example.com", follows_all_issues=True)
    ContactFactory(customer=hanbit, name="박서연", email="seoyeon@hanbit.example.kr", language="ko",
                   follows_all_issues=True)
    return {"manager": manager, "colleague": colleague, "acme": acme, "hanbit": hanbit}


def sign_in(page: Page, live_server, username: str) -> Page:
    page.set_default_timeout(5000)
    page.goto(f"{live_server.url}/accounts/login/")
    # By the fields' names: the labels are in whichever language the browser already reads the app.
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


@pytest.fixture
def signed_in(page: Page, live_server, people) -> Page:
    return sign_in(page, live_server, "manager")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


# The two screens every story of the account manager's day is told on (issue 15): a desk and a 390 px phone.
SCREENS = {"desktop": {"width": 1360, "height": 900}, "390": {"width": 390, "height": 844}}


def speak(page: Page, live_server, language: str) -> None:
    """Read the app in `language` from the next page on, as the language switch leaves it."""
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])


def scrolls_sideways(page: Page) -> bool:
    """Whether the page is laid out wider than the screen it was given (and so scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth") > page.viewport_size["width"]
