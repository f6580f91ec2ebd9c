"""In a real browser: the staff layout at phone and desktop widths (menu, first screen, wide tables)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.customers_factories import CustomerFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-ui")


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "django_language", "value": "en", "url": live_server.url},
    ])  # fmt: skip


def shot(page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_at_phone_width_the_customer_name_is_on_the_first_screen_and_the_menu_opens(page, live_server, agent):
    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    sign_in(page, live_server, agent)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    shot(page, "360-390")

    name = page.get_by_test_id("customer-name")
    expect(name).to_have_text("Héloïse Lefèvre")
    assert name.bounding_box()["y"] < 200
    menu = page.locator("#relais-sidebar")
    expect(menu.locator("[data-nav=customers]")).not_to_be_visible()

    page.get_by_test_id("menu-toggle").click()
    expect(menu.locator("[data-nav=customers]")).to_be_visible()
    expect(menu).to_have_class(re.compile(r"\bshow\b"))
    page.wait_for_timeout(400)  # the slide-in transition, for the screenshot only
    shot(page, "360-390-menu", full_page=False)
    menu.locator("[data-nav=customers]").click()
    expect(page).to_have_url(f"{live_server.url}/customers/")


def test_at_desktop_width_the_sidebar_is_always_shown_and_the_toggle_is_not(page, live_server, agent):
    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    sign_in(page, live_server, agent)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    shot(page, "360-1440")

    expect(page.locator("#relais-sidebar [data-nav=customers]")).to_be_visible()
    expect(page.get_by_test_id("menu-toggle")).not_to_be_visible()
    name_box = page.get_by_test_id("customer-name").bounding_box()
    sidebar_box = page.locator("#relais-sidebar").bounding_box()
    assert name_box["x"] > sidebar_box["x"] + sidebar_box["width"]


@pytest.mark.parametrize("width", [390, 1440])
def test_the_cost_of_service_table_stays_inside_its_card(page, live_server, agent, width):
    from channels.choices import InteractionChannel
    from tests.channels_factories import InteractionFactory

    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    for channel in InteractionChannel.values:
        InteractionFactory(customer=customer, channel=channel, cost="123456.78")
    sign_in(page, live_server, agent)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    table = page.get_by_test_id("cost-of-service")
    table.scroll_into_view_if_needed()
    SHOTS.mkdir(exist_ok=True)
    page.locator("[data-panel=cost_of_service], .card:has([data-testid=cost-of-service])").last.screenshot(
        path=str(SHOTS / f"cost-{width}.png")
    )

    card = page.locator(".card:has([data-testid=cost-of-service])").last.bounding_box()
    box = table.bounding_box()
    assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"] + 0.5
