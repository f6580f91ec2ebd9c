"""In a real browser: an agent finds a customer by a phone number typed differently than stored."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.customers_factories import CustomerFactory, MobileFactory
from tests.factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_agent_finds_a_customer_by_phone_and_opens_the_360_page(page, live_server, make_staff):
    make_staff("Agent", username="lea.dubois", first_name="Léa")
    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    MobileFactory(customer=customer, value="+33612345678")

    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.fill("input[name=username]", "lea.dubois")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Hello, Léa")).to_be_visible()

    page.keyboard.press("/")
    expect(page.locator("[data-relais-search]")).to_be_focused()
    page.keyboard.type("0033 6 12 34 56 78")
    hit = page.get_by_test_id("search-hit").first
    expect(hit).to_contain_text("Héloïse Lefèvre")
    expect(hit).to_contain_text(customer.account_number)

    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.get_by_test_id("customer-name")).to_have_text("Héloïse Lefèvre")
    expect(page.get_by_test_id("contact-points")).to_contain_text("06 12 34 56 78")
