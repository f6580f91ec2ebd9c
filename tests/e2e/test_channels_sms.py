"""In a real browser: an agent texts a customer from the 360 page with a template and a live part count."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from channels.models import Interaction, ResponseTemplate
from tests.customers_factories import CustomerFactory, MobileFactory
from tests.factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_agent_sends_an_sms_from_the_360_page(page, live_server, make_staff, settings):
    settings.SMS_PROVIDER = "console"
    make_staff("Agent", username="lea.dubois", first_name="Léa")
    customer = CustomerFactory(given_name="Hélène", family_name="Lefèvre")
    MobileFactory(customer=customer, value="+33612345678")
    ResponseTemplate.objects.create(channel="sms", name="Colis", body="Bonjour {{ customer.given_name }}, votre "
                                    "colis est arrivé.")  # fmt: skip

    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.fill("input[name=username]", "lea.dubois")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.get_by_test_id("composer-sms").click()
    # The composer opens in place (htmx) or, when the click beats the page's scripts, as its own page:
    # either way, choose the template once that page has settled, as a person would.
    page.wait_for_load_state("networkidle")

    page.select_option("#id_template", label="Colis (fr)")  # htmx swaps the text in, no reload
    body = page.locator("#id_body")
    expect(body).to_have_value("Bonjour Hélène, votre colis est arrivé.")
    count = page.get_by_test_id("sms-count")
    expect(count).to_contain_text("39 characters · 1 SMS")
    expect(count).to_contain_text("GSM-7")
    body.press("End")
    body.type(" Merci ! 🙂")
    expect(count).to_contain_text("UCS-2")  # the emoji is outside the SMS alphabet
    body.fill("x" * 161)
    expect(count).to_contain_text("161 characters · 2 SMS")

    body.fill("Bonjour Hélène, votre colis est arrivé.")
    page.get_by_test_id("send-sms").click()

    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.get_by_role("alert")).to_contain_text("SMS sent to 06 12 34 56 78 (1 part(s)).")
    assert (
        Interaction.objects.get(customer=customer, channel="sms").summary == "Bonjour Hélène, votre colis est arrivé."
    )
