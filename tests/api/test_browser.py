"""Hana makes an API token on her preferences page and revokes it, on a desk and on a 390 px phone, in English and
Korean, without JavaScript's help; the API's docs load from our own files under our Content-Security-Policy."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from api.models import ApiToken
from api.tokens import recognise
from tests.browser.conftest import (  # noqa: F401 - the browser stories' fixtures, for this module's stories
    SCREENS,
    browser_context_args,
    browser_type_launch_args,
    no_content_security_policy_violations,
    people,
    screenshot,
    sign_in,
    signed_in,
    speak,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("screen", ["desktop", "390"])
def test_hana_makes_a_token_sees_it_once_and_revokes_it(signed_in: Page, people, live_server, language,  # noqa: F811
                                                       screen):
    page = signed_in
    speak(page, live_server, language)
    page.set_viewport_size(SCREENS[screen])
    page.goto(f"{live_server.url}/preferences/#api-tokens")
    expect(page.locator("html")).to_have_attribute("lang", language)

    page.locator("#id_api_token-name").fill("Uptime monitor")
    page.locator("#id_api_token-read_only").check()
    page.locator("#api-tokens form:has(#id_api_token-name) button[type=submit]").click()

    secret = page.locator("#new-api-token").input_value()
    token = recognise(secret)
    assert (token.name, token.read_only, token.user) == ("Uptime monitor", True, people["manager"])
    expect(page.locator(".api-tokens li")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"]
    screenshot(page, f"api-token-made-{language}-{screen}")

    page.locator(".api-tokens button[type=submit]").click()
    expect(page.locator(".api-tokens li")).to_contain_text(token.prefix)
    expect(page.locator("#new-api-token")).to_have_count(0)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"]
    screenshot(page, f"api-token-revoked-{language}-{screen}")


@pytest.mark.parametrize("screen", ["desktop", "390"])
def test_the_api_docs_load_from_our_own_files_under_our_csp(page: Page, live_server, screen):
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.set_viewport_size(SCREENS[screen])

    page.goto(f"{live_server.url}/api/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Inloop API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() == 13
    page.locator(".opblock-summary").first.click()  # an operation opens: the bundle's script runs
    expect(page.locator(".opblock.is-open")).to_have_count(1)
    hosts = {urlsplit(url).netloc for url in asked if not url.startswith("data:")}
    assert hosts == {urlsplit(live_server.url).netloc}, hosts  # no CDN
    assert any(url.endswith("/static/ninja/swagger-ui-bundle.js") for url in asked)
    screenshot(page, f"api-docs-{screen}")
