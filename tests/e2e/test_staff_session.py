"""In a real browser: sign in, switch the interface to French and back, sign out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def switch_language(page, code: str) -> None:
    """Pick a language in the switcher and wait for the page it reloads (the form submits on change)."""
    with page.expect_navigation():
        page.select_option("#language-select", code)


def test_an_agent_signs_in_switches_language_and_signs_out(page, live_server, make_staff):
    make_staff("Agent", username="lea.dubois", first_name="Léa")
    page.goto(f"{live_server.url}/accounts/login/")

    switch_language(page, "en")
    expect(page.get_by_role("heading", name="Sign in to Relais")).to_be_visible()
    page.fill("input[name=username]", "lea.dubois")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()

    expect(page.get_by_role("heading", name="Hello, Léa")).to_be_visible()
    expect(page.locator("[data-nav=api_tokens]")).to_be_visible()
    expect(page.locator("[data-nav=operations]")).to_have_count(0)

    switch_language(page, "fr")
    expect(page.get_by_role("heading", name="Bonjour, Léa")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_text("Ce que vous pouvez faire ici")).to_be_visible()

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    expect(page.get_by_role("heading", name="Vous êtes déconnecté")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_a_wrong_password_is_explained_and_the_page_stays(page, live_server, make_staff):
    make_staff("Agent", username="hugo")
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    page.fill("input[name=username]", "hugo")
    page.fill("input[name=password]", "not the password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
