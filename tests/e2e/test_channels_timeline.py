"""In a real browser: the timeline scrolls in older contacts, filters by chip, and a visit is logged on a tablet."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from channels.models import FollowUp, Interaction
from tests.channels_factories import InteractionFactory
from tests.customers_factories import CustomerFactory, ProductFactory
from tests.factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_tablet_agent_scrolls_filters_and_logs_a_visit(page, live_server, make_staff):
    make_staff("Agent", username="lea.dubois", first_name="Léa")
    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    ProductFactory(sku="BOX-FIBRE", name="Box Fibre")
    ProductFactory(sku="TV-4K", name="Décodeur TV 4K")
    now = timezone.now() - datetime.timedelta(hours=1)
    for index in range(70):
        InteractionFactory(customer=customer, occurred_at=now - datetime.timedelta(hours=index),
                           channel="email" if index % 10 == 0 else "phone",
                           kind="email" if index % 10 == 0 else "call", subject=f"Contact n{index}")  # fmt: skip
    page.set_viewport_size({"width": 768, "height": 1024})
    _sign_in(page, live_server, "lea.dubois")

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    entries = page.get_by_test_id("timeline-entry")
    expect(entries).to_have_count(50)
    page.get_by_test_id("timeline-more").scroll_into_view_if_needed()
    expect(entries).to_have_count(70)  # the older twenty came in when the end was revealed
    expect(entries.last).to_contain_text("Contact n69")

    page.get_by_test_id("chip-channel-email").click()
    expect(entries).to_have_count(7)
    expect(page.get_by_test_id("chip-channel-email")).to_have_attribute("aria-pressed", "true")

    page.get_by_test_id("composer-visit_log").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 768  # no sideways scrolling on a tablet
    page.get_by_label("Store or agency").fill("Agence Lyon Part-Dieu")
    page.get_by_label("Reason for the visit").fill("Déménagement")
    # The products picker: type part of a name, choose with the keyboard; each choice becomes a chip.
    products = page.get_by_label("Products discussed")
    products.press_sequentially("fibr")
    option = page.get_by_role("option", name="Box Fibre (BOX-FIBRE)")
    expect(option).to_be_visible()
    products.press("ArrowDown")
    products.press("Enter")
    products.press_sequentially("tv-4")
    page.get_by_role("option", name="Décodeur TV 4K (TV-4K)").click()
    chosen = page.locator("[data-picker-chosen] li")
    expect(chosen).to_have_count(2)
    expect(chosen.first).to_contain_text("Box Fibre (BOX-FIBRE)")
    page.screenshot(path="/tmp/relais-h5/visit-picker.png")
    page.get_by_label("Follow-up task").fill("Rappeler pour l'installation")
    due = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Due").fill(due)
    page.get_by_test_id("submit").click()

    expect(page.get_by_text("Visit logged.")).to_be_visible()
    first = page.get_by_test_id("timeline-entry").first
    expect(first).to_contain_text("Déménagement")
    expect(first).to_contain_text("Agence Lyon Part-Dieu")
    assert FollowUp.objects.get(customer=customer).title == "Rappeler pour l'installation"
    visit = Interaction.objects.get(customer=customer, kind="visit")
    assert [p["sku"] for p in visit.metadata["products"]] == ["BOX-FIBRE", "TV-4K"]
