"""In a real browser, two people: a visitor chatting from the demo shop and an agent in the console.

The visitor's page is Relais's own demo shop (the widget talks to its own origin, so its event stream
is a same-origin EventSource that sends no Origin header); the agent signs in in another browser
context. What each of them SEES is asserted: the agent's reply and the pushed pages in the widget, the
visitor's lines in the console. The widget is also checked at phone and desktop widths: one form at a
time, and its buttons inside the panel.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from channels import realtime
from channels.demo_web import demo_site_ensure
from channels.models import Conversation, WebEvent
from tests.channels_factories import QueueFactory
from tests.customers_factories import CustomerFactory, EmailFactory, ProductFactory
from tests.e2e.test_channels_web import wait_for
from tests.support import browser_context_close

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-chat")
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 720}
DESKTOP = {"width": 1440, "height": 900}
LIVE_STREAM = "[sse-connect][data-live=on]"


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def agent_context(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=DESKTOP)
    context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "django_language", "value": "en", "url": live_server.url},
    ])  # fmt: skip
    return context


def inside(inner: dict, outer: dict) -> bool:
    """Whether box ``inner`` lies wholly within box ``outer`` (Playwright bounding boxes, 1 px slack)."""
    return (
        inner["x"] >= outer["x"] - 1
        and inner["y"] >= outer["y"] - 1
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
    )


def assert_one_form_shown(widget, page, *, chat: bool) -> None:
    """Exactly one of the chat and call-back bodies is on screen, and its main button is wholly visible."""
    chat_body, callback_body = widget.locator("[data-relais=chat-body]"), widget.locator("[data-relais=callback-body]")
    shown, other = (chat_body, callback_body) if chat else (callback_body, chat_body)
    expect(shown).to_be_visible()
    expect(other).to_be_hidden()
    button = widget.locator("[data-relais=start]" if chat else "[data-relais=cb-submit]")
    expect(button).to_be_visible()
    panel_box = widget.locator(".panel").bounding_box()
    body_box, button_box = shown.bounding_box(), button.bounding_box()
    viewport = page.viewport_size
    assert inside(button_box, panel_box), (button_box, panel_box)
    assert inside(button_box, body_box), (button_box, body_box)  # not scrolled out of the body either
    assert inside(panel_box, {"x": 0, "y": 0, "width": viewport["width"], "height": viewport["height"]})


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP, DESKTOP], ids=["390", "1280", "1440"])
def test_the_widget_shows_one_form_at_a_time_with_its_button_in_view(browser, live_server, viewport):
    demo_site_ensure()
    context = browser.new_context(viewport=viewport, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/channels/web/demo/")
        widget = page.locator("#relais-widget")
        widget.locator("[data-relais=open]").click()
        assert_one_form_shown(widget, page, chat=True)
        shot(page, f"widget-chat-{viewport['width']}")
        widget.locator("[data-relais=tab-callback]").click()
        assert_one_form_shown(widget, page, chat=False)
        shot(page, f"widget-callback-{viewport['width']}")
        widget.locator("[data-relais=tab-chat]").click()
        assert_one_form_shown(widget, page, chat=True)
    finally:
        browser_context_close(context)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1440"])
def test_a_visitor_and_an_agent_chat_both_ways_and_the_pushed_pages_reach_the_visitor(
    browser, live_server, agent, viewport
):
    demo_site_ensure()
    QueueFactory(is_default=True)
    ProductFactory(sku="LAMP-1", name="Lampe bleue")
    EmailFactory(value="chloe.martin@example.com", customer=CustomerFactory(given_name="Chloé", family_name="Martin"))
    width = viewport["width"]
    shop = f"{live_server.url}/channels/web/demo/"
    visitor_context = browser.new_context(viewport=viewport, locale="en-GB")
    staff_context = agent_context(browser, live_server, agent)
    try:
        console = staff_context.new_page()
        streams = []
        console.on(
            "request", lambda request: streams.append(request.url) if request.resource_type == "eventsource" else None
        )
        console.goto(f"{live_server.url}/channels/chats/")
        # One event stream per page: the queue's also carries the agent's toasts.
        expect(console.locator(LIVE_STREAM)).to_have_count(1)
        assert console.locator("[sse-connect]").count() == 1
        assert streams == [f"{live_server.url}/channels/chats/stream/"]

        visitor = visitor_context.new_page()
        visitor.goto(shop)
        widget = visitor.locator("#relais-widget")
        widget.locator("[data-relais=open]").click()
        assert_one_form_shown(widget, visitor, chat=True)
        widget.locator("[data-relais=name]").fill("Chloé")
        widget.locator("[data-relais=email]").fill("chloe.martin@example.com")  # a claim, not proof
        widget.locator("[data-relais=message]").fill("Is the blue lamp in stock?")
        widget.locator("[data-relais=start]").click()
        expect(widget.locator("[data-relais=line-visitor]")).to_have_text("YouIs the blue lamp in stock?")

        # The widget gives track.js's visitor id, so the agent sees the pages this browser visited.
        visitor_id = visitor.evaluate("window.relais.visitorId()")
        assert Conversation.objects.get().visitor_id == visitor_id and len(visitor_id) == 24
        wait_for(lambda: WebEvent.objects.filter(visitor_id=visitor_id, event_type="page_view").exists())

        # The agent: the chat appears in the queue by itself, is taken, the visitor's line is there.
        row = console.get_by_test_id("waiting-chat")
        expect(row).to_contain_text("Chloé")
        row.get_by_test_id("take-chat").click()
        expect(console.get_by_test_id("chat-line-visitor")).to_have_count(1)
        expect(console.get_by_test_id("chat-line-visitor")).to_contain_text("Is the blue lamp in stock?")
        expect(console.locator(LIVE_STREAM)).to_have_count(1)
        assert console.locator("[sse-connect]").count() == 1
        expect(console.get_by_test_id("visitor-pages")).to_contain_text("Demo shop")
        # The typed email names a customer: suggested to the agent, not linked.
        expect(console.get_by_test_id("chat-claim")).to_contain_text("claimed, not verified")
        expect(console.get_by_test_id("chat-claim")).to_contain_text("Chloé Martin")
        expect(console.get_by_test_id("chat-customer-link")).to_have_count(0)
        assert Conversation.objects.get().customer_id is None
        conversation = Conversation.objects.get()
        assert set(streams[1:]) == {f"{live_server.url}/channels/chats/{conversation.pk}/stream/"}
        realtime.publish(
            f"agent:{agent.pk}", "toast", '<div class="toast show" data-testid="call-toast">Incoming call</div>'
        )
        expect(console.get_by_test_id("call-toast")).to_have_text("Incoming call")
        # The visitor hears who joined, over the stream (a same-origin EventSource, no Origin header).
        expect(widget.locator("[data-relais=line-system]").last).to_contain_text("joined the chat")

        console.get_by_label("Your answer").fill("Yes, we have three left.")
        console.get_by_test_id("send-reply").click()
        expect(widget.locator("[data-relais=line-agent]")).to_contain_text("Yes, we have three left.")

        widget.locator("[data-relais=input]").fill("Great, can you show me?")
        widget.locator("[data-relais=send]").click()
        expect(console.get_by_test_id("chat-line-visitor")).to_have_count(2)
        expect(console.get_by_test_id("chat-line-visitor").last).to_contain_text("Great, can you show me?")

        # A page on another origin arrives as a link; the visitor stays where they are.
        console.get_by_label("Push a page to the visitor").fill("https://example.com/arco-lamp")
        console.get_by_test_id("push-page").click()
        pushed = widget.locator("[data-relais=pushed-link]")
        expect(pushed).to_have_count(1)
        expect(pushed).to_be_visible()
        assert visitor.url == shop
        shot(visitor, f"round-trip-pushed-link-{width}")

        # A page of the shop itself opens at once, and the chat resumes there with everything said.
        console.get_by_label("Push a page to the visitor").fill(f"{shop}?product=LAMP-1")
        console.get_by_test_id("push-page").click()
        visitor.wait_for_url(f"{shop}?product=LAMP-1")
        widget = visitor.locator("#relais-widget")
        expect(widget.locator("[data-relais=line-agent]").first).to_contain_text("Yes, we have three left.")
        expect(widget.locator("[data-relais=pushed-link]")).to_have_count(2)
        console.get_by_label("Your answer").fill("Here it is.")
        console.get_by_test_id("send-reply").click()
        expect(widget.locator("[data-relais=line-agent]").last).to_contain_text("Here it is.")
        expect(widget.locator("[data-relais=input]")).to_be_visible()
        send_box = widget.locator("[data-relais=send]").bounding_box()
        assert inside(send_box, widget.locator(".panel").bounding_box())
        shot(visitor, f"round-trip-visitor-{width}")
        shot(console, f"round-trip-agent-{width}")

        widget.locator("[data-relais=input]").fill("Thanks, bye")
        widget.locator("[data-relais=send]").click()
        expect(console.get_by_test_id("chat-line-visitor").last).to_contain_text("Thanks, bye")
        assert Conversation.objects.get().status == "open"
    finally:
        browser_context_close(visitor_context)
        browser_context_close(staff_context)
