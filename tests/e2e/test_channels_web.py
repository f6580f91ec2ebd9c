"""In a real browser: the demo shop's track.js sends page views, cart additions and the sign-in to Relais."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from channels.demo_web import demo_site_ensure
from channels.models import VisitorLink, WebEvent
from tests.customers_factories import EmailFactory, ProductFactory
from tests.support import browser_context_close

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, *, timeout: float = 10.0):
    """Poll the database until ``predicate()`` is truthy (track.js batches for a second before sending)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the events did not reach the database in time")


def test_track_js_on_the_demo_shop_records_a_visit_and_stitches_the_signed_in_customer(page, live_server):
    site = demo_site_ensure()
    ProductFactory(sku="LAMP-1", name="Lampe bleue")
    customer = EmailFactory(value="lucie.bernard@example.fr").customer

    page.goto(f"{live_server.url}/channels/web/demo/")
    expect(page.get_by_role("heading", name="Lampe bleue")).to_be_visible()
    views = wait_for(lambda: list(WebEvent.objects.filter(site=site, event_type="page_view")))
    assert views[0].url.endswith("/channels/web/demo/")
    visitor_id = views[0].visitor_id
    assert len(visitor_id) == 24 and views[0].customer_id is None
    assert page.evaluate("window.relais.visitorId()") == visitor_id

    page.get_by_test_id("add-LAMP-1").click()
    expect(page.get_by_test_id("cart-count")).to_contain_text("1")
    cart = wait_for(lambda: WebEvent.objects.filter(site=site, event_type="cart_add").first())
    assert cart.product_sku == "LAMP-1" and cart.visitor_id == visitor_id
    assert cart.session_id == views[0].session_id

    page.fill("#signin-email", "lucie.bernard@example.fr")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in")).to_have_text("lucie.bernard@example.fr")
    link = wait_for(lambda: VisitorLink.objects.filter(site=site, visitor_id=visitor_id).first())

    assert link.customer_id == customer.pk and link.via == "login"
    assert set(WebEvent.objects.filter(site=site).values_list("customer_id", flat=True)) == {customer.pk}


def test_with_do_not_track_nothing_is_sent(browser, live_server):
    demo_site_ensure()
    context = browser.new_context(extra_http_headers={"DNT": "1"})
    page = context.new_page()
    page.add_init_script("Object.defineProperty(navigator, 'doNotTrack', {get: () => '1'})")

    page.goto(f"{live_server.url}/channels/web/demo/")
    page.evaluate("window.relais.track('click', {button: 'x'}); window.relais.flush()")
    page.wait_for_timeout(1500)

    assert page.evaluate("window.relais.visitorId()") is None
    assert WebEvent.objects.count() == 0
    browser_context_close(context)


def test_with_a_consent_banner_nothing_is_sent_before_the_visitor_accepts(page, live_server):
    site = demo_site_ensure()
    ProductFactory(sku="SOFA-2", name="Canapé Nuage")

    page.goto(f"{live_server.url}/channels/web/demo/?consent=required")
    page.get_by_test_id("add-SOFA-2").click()
    page.evaluate("window.relais.flush()")
    page.wait_for_timeout(1200)
    assert WebEvent.objects.count() == 0
    assert page.evaluate("window.localStorage.getItem('relais_vid')") is None  # nothing stored either

    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_test_id("consent-banner")).to_be_hidden()
    page.get_by_test_id("add-SOFA-2").click()

    wait_for(lambda: WebEvent.objects.filter(site=site, event_type="cart_add").exists())
    assert sorted(WebEvent.objects.values_list("event_type", flat=True)) == ["cart_add", "page_view"]
