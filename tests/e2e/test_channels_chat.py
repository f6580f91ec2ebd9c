"""In a real browser: the chat widget on a customer's site, and the agent's chat page, over live SSE.

The customer's site is a second HTTP server on another port (another origin, as in production): it
serves two pages embedding ``widget.js`` from the Relais live server.
"""

from __future__ import annotations

import http.server
import tempfile
import threading
from functools import partial
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from channels.models import Conversation
from channels.services import chat as chat_services
from tests.channels_factories import QueueFactory, SiteFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

XSS = '<img src=x onerror="window.__xss=1">'
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>
<script src="{relais}/static/relais/widget.js" data-site-key="{key}" async></script></body></html>"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def shop(live_server):
    """The customer's web site: index.html and product.html, each embedding the widget."""
    folder = Path(tempfile.mkdtemp())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    site = SiteFactory(key="shop-e2e", allowed_origins=origin)
    for name, title in (("index.html", "Lamp shop"), ("product.html", "Arco lamp")):
        (folder / name).write_text(PAGE.format(title=title, relais=live_server.url, key=site.key))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield origin, site
    server.shutdown()
    server.server_close()


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "django_language", "value": "en", "url": live_server.url},
    ])  # fmt: skip


def test_a_visitor_chats_from_the_widget_and_the_agent_pushes_a_page(page, live_server, shop, agent):
    origin, site = shop
    QueueFactory(is_default=True)
    page.goto(f"{origin}/index.html")
    widget = page.locator("#relais-widget")
    widget.locator("[data-relais=open]").click()
    expect(widget.locator("[data-relais=tab-chat]")).to_have_text("Chat with us")
    expect(widget.locator("[data-relais=tab-callback]")).to_have_text("Call me back")
    widget.locator("[data-relais=name]").fill("Chloé")
    widget.locator("[data-relais=message]").fill("Is the Arco lamp in stock?")
    widget.locator("[data-relais=start]").click()
    expect(widget.locator("[data-relais=line-visitor]")).to_have_text("YouIs the Arco lamp in stock?")

    conversation = Conversation.objects.get(site=site)
    assert conversation.visitor_id == ""  # no track.js on the shop's page: the widget makes no id up
    conversation = chat_services.chat_take(conversation=conversation, agent=agent)
    chat_services.chat_agent_reply(conversation=conversation, agent=agent, body=f"Yes! {XSS}")
    expect(widget.locator("[data-relais=line-agent]")).to_contain_text(f"Yes! {XSS}")  # shown as text
    assert page.evaluate("window.__xss") is None

    widget.locator("[data-relais=input]").fill("Great, show me")
    widget.locator("[data-relais=send]").click()
    expect(widget.locator("[data-relais=line-visitor]")).to_have_count(2)

    chat_services.chat_push_page(conversation=conversation, agent=agent, url=f"{origin}/product.html")
    page.wait_for_url(f"{origin}/product.html")
    expect(page.get_by_role("heading", name="Arco lamp")).to_be_visible()
    # The chat follows the visitor to the pushed page.
    expect(widget.locator("[data-relais=line-agent]").first).to_contain_text("Yes!")
    chat_services.chat_agent_reply(conversation=conversation, agent=agent, body="Here it is.")
    expect(widget.locator("[data-relais=line-agent]").last).to_contain_text("Here it is.")
    assert page.evaluate("window.__xss") is None


def test_a_chat_message_with_html_never_runs_in_the_agents_browser(page, live_server, agent):
    site = SiteFactory(key="xss-e2e", allowed_origins="https://shop.example.com")
    sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/channels/chats/")
    expect(page.locator("[sse-connect^='/channels/chats/'][data-live=on]")).to_have_count(1)

    # A new chat appears in the queue by itself (SSE on the console topic).
    chat_services.chat_start(site=site, name=XSS, message=XSS, visitor_id="v-xss")
    row = page.get_by_test_id("waiting-chat")
    expect(row).to_contain_text(XSS)
    row.get_by_test_id("take-chat").click()
    expect(page.get_by_test_id("chat-line-visitor").first).to_contain_text(XSS)
    expect(page.locator("[sse-connect^='/channels/chats/'][data-live=on]")).to_have_count(1)

    # A second line arrives live (SSE reloads the transcript) and is still only text.
    conversation = Conversation.objects.get(site=site)
    chat_services.chat_visitor_post(conversation=conversation, body=f"again {XSS}")
    expect(page.get_by_test_id("chat-line-visitor")).to_have_count(2)
    expect(page.get_by_test_id("chat-line-visitor").last).to_contain_text(f"again {XSS}")

    page.get_by_label("Your answer").fill("Hello, how can I help?")
    page.get_by_test_id("send-reply").click()
    expect(page.get_by_test_id("chat-line-agent")).to_contain_text("Hello, how can I help?")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#transcript img").count() == 0

    page.get_by_label("Push a page to the visitor").fill("javascript:alert(document.cookie)")
    page.get_by_test_id("push-page").click()
    expect(page.get_by_test_id("chat-error")).to_contain_text("starting with http:// or https://")


def test_a_visitor_asks_for_a_call_back_from_the_widget(page, live_server, shop):
    import datetime

    from django.utils import timezone

    from channels.models import CallbackRequest
    from channels.services.sla import PARIS, is_business_day

    origin, site = shop
    day = timezone.now().astimezone(PARIS).date() + datetime.timedelta(days=1)
    while not is_business_day(day):
        day += datetime.timedelta(days=1)
    page.goto(f"{origin}/index.html")
    widget = page.locator("#relais-widget")
    widget.locator("[data-relais=open]").click()
    widget.locator("[data-relais=tab-callback]").click()
    widget.locator("[data-relais=cb-name]").fill("Paul")
    widget.locator("[data-relais=cb-phone]").fill("12")
    widget.locator("[data-relais=cb-day]").fill(day.isoformat())
    widget.locator("[data-relais=cb-from]").select_option("11:00")
    widget.locator("[data-relais=cb-to]").select_option("12:00")
    widget.locator("[data-relais=cb-reason]").fill("My invoice")
    widget.locator("[data-relais=cb-submit]").click()
    expect(widget.locator("[data-relais=cb-error]")).to_contain_text("is not a valid phone number")
    assert not CallbackRequest.objects.exists()

    widget.locator("[data-relais=cb-phone]").fill("06 12 34 56 78")
    widget.locator("[data-relais=cb-submit]").click()
    expect(widget.locator("[data-relais=cb-done]")).to_contain_text("We will call you back")
    callback = CallbackRequest.objects.get()
    assert (callback.phone, callback.reason, callback.site) == ("+33612345678", "My invoice", site)
    assert callback.preferred_from.astimezone(PARIS).date() == day
