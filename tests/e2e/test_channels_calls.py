"""In a real browser: a full inbound call, from the telephony system's signed event to the 360 timeline."""

from __future__ import annotations

import json
import time

import pytest
import requests
from django.test import override_settings
from playwright.sync_api import expect

from channels.models import AgentProfile, Interaction
from channels.realtime import channel_name
from crm.redis import redis_client
from tests.channels.calls_signing import SECRET, URL, signed_headers
from tests.customers_factories import CustomerFactory, MobileFactory
from tests.factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _post(live_server, payload: dict) -> requests.Response:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **signed_headers(body)}
    return requests.post(live_server.url + URL, data=body, headers=headers, timeout=10)


def _wait_for_stream(topic: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if redis_client().pubsub_numsub(channel_name(topic))[0][1] >= 1:
            return
        time.sleep(0.05)
    raise AssertionError(f"the console never subscribed to {topic}")


@override_settings(CTI_SHARED_SECRET=SECRET)
def test_an_inbound_call_pops_up_is_logged_and_lands_on_the_timeline(page, live_server, make_staff):
    agent = make_staff("Agent", username="lea.dubois", first_name="Léa")
    AgentProfile.objects.create(user=agent, extension="201")
    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    MobileFactory(customer=customer, value="+33612345678")

    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.fill("input[name=username]", "lea.dubois")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Hello, Léa")).to_be_visible()
    page.goto(f"{live_server.url}/channels/console/")
    expect(page.get_by_test_id("no-call")).to_be_visible()
    _wait_for_stream(f"agent:{agent.pk}")

    ringing = _post(live_server, {"event": "ringing", "call_id": "pbx-42", "caller_number": "+33 (0)6 12 34 56 78",
                                  "called_line": "0800 123 456", "agent_extension": "201"})  # fmt: skip
    assert ringing.status_code == 200, ringing.text
    assert ringing.json()["customer"]["name"] == "Héloïse Lefèvre"

    card = page.get_by_test_id("call-card")
    expect(card.get_by_test_id("pop-customer-name")).to_have_text("Héloïse Lefèvre")
    expect(card.get_by_test_id("call-state")).to_have_text("Ringing")
    _post(live_server, {"event": "answered", "call_id": "pbx-42", "caller_number": "+33612345678"})

    card.locator("select[name=outcome]").select_option("resolved")
    card.locator("textarea[name=summary]").fill("Wanted the date of the next delivery")
    card.get_by_test_id("log-outcome").click()
    expect(page.get_by_test_id("call-logged")).to_contain_text("Logged: resolved")

    ended = _post(live_server, {"event": "ended", "call_id": "pbx-42", "caller_number": "+33612345678"})
    assert ended.status_code == 200
    assert Interaction.objects.count() == 1

    page.get_by_test_id("pop-customer-name").click()
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/")
    entry = page.get_by_test_id("timeline-entry").first
    expect(entry).to_contain_text("Call from 06 12 34 56 78")
    expect(entry).to_contain_text("Wanted the date of the next delivery")
    expect(entry).to_contain_text("resolved")
