"""In a real browser: the images of an inbound email do not load (no request leaves, neither to a
tracker nor to Relais itself) until the agent clicks "Show images" for that message; then the remote
one loads, the same-origin one never does, and no Content-Security-Policy violation is logged."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from channels.services.email_in import email_inbound_record
from tests.channels import email_support
from tests.channels.email_support import build_message
from tests.customers_factories import CustomerFactory, EmailFactory
from tests.factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
media = email_support.media

PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
HTML = """<p>Bonjour, voici la photo du colis.</p>
<img src="https://tracker.example/open.png?u=42" alt="colis" width="40" height="40" id="remote">
<img src="/accounts/logout/" alt="same origin" id="local">"""


def test_images_load_only_after_the_agent_asks_for_them(page, live_server, make_staff, media):
    make_staff("Agent", username="lea.dubois", first_name="Léa")
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="heloise@example.fr")
    other = email_inbound_record(raw=build_message(subject="Autre", html='<img src="https://tracker.example/b.png">'))
    result = email_inbound_record(raw=build_message(subject="Photo", html=HTML, in_reply_to=None))
    assert other.conversation.pk != result.conversation.pk
    requested, violations = [], []
    page.route("https://tracker.example/**", lambda route: route.fulfill(status=200, content_type="image/png",
                                                                          body=PIXEL))  # fmt: skip
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))

    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.fill("input[name=username]", "lea.dubois")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Hello, Léa")).to_be_visible()

    page.goto(f"{live_server.url}/channels/email/threads/{result.conversation.pk}/")
    expect(page.get_by_test_id("images-bar")).to_contain_text("Images are blocked")
    page.wait_for_load_state("networkidle")
    page.screenshot(path="/tmp/shots-mail/email-images-blocked.png", full_page=True)
    assert [url for url in requested if "tracker.example" in url or "logout" in url] == []
    assert page.locator("img[alt=colis]").get_attribute("src") is None

    page.get_by_test_id("show-images").click()
    expect(page.get_by_test_id("hide-images")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.screenshot(path="/tmp/shots-mail/email-images-shown.png", full_page=True)
    assert [url for url in requested if "tracker.example" in url] == ["https://tracker.example/open.png?u=42"]
    assert page.evaluate('document.querySelector("img[alt=colis]").naturalWidth') == 1
    assert not any("logout" in url for url in requested)
    assert violations == []

    page.goto(f"{live_server.url}/channels/email/threads/{other.conversation.pk}/")
    page.wait_for_load_state("networkidle")
    assert "https://tracker.example/b.png" not in requested  # shown for that one message only
