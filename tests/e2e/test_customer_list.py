"""In a real browser: filter the customer list in place, save the filter, and find it again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from customers.models import SavedFilter
from tests.customers_factories import CustomerFactory
from tests.e2e.test_staff_layout import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_filter_typed_in_place_is_the_one_saved(page, live_server, agent):
    CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    CustomerFactory(given_name="Marc", family_name="Durand")
    sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/customers/")
    expect(page.get_by_test_id("customer-row")).to_have_count(2)

    page.locator("#id_q").press_sequentially("lefevre")
    expect(page.get_by_test_id("customer-row")).to_have_count(1)
    save = page.get_by_test_id("save-filter")
    save.locator("input[name=name]").fill("Héloïse only")
    save.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Filter “Héloïse only” saved.")).to_be_visible()

    saved = SavedFilter.objects.get(name="Héloïse only")
    assert "q=lefevre" in saved.query.split("&")
    page.goto(f"{live_server.url}/customers/")
    page.get_by_test_id("saved-filters").get_by_role("link", name="Héloïse only").click()
    expect(page.get_by_test_id("customer-row")).to_have_count(1)
    expect(page.get_by_test_id("customer-row")).to_contain_text("Héloïse Lefèvre")
