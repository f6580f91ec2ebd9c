"""In a real browser, under the Content-Security-Policy: the pages an agent and a visitor use log no
CSP violation (a blocked script, handler, style or image would be a broken feature)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.customers_factories import CustomerFactory
from tests.factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WATCH = """window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});"""


def test_staff_pages_log_no_csp_violation(page, live_server, make_staff):
    make_staff("Supervisor", username="lea.dubois", first_name="Léa")
    customer = CustomerFactory()
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH)

    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")  # the language switch submits itself (relais.js)
    page.fill("input[name=username]", "lea.dubois")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Hello, Léa")).to_be_visible()
    visited = {}
    for path in ("/", f"/customers/{customer.pk}/", "/customers/", "/channels/chats/", "/channels/web/demo/",
                 "/api/docs/", "/account/"):  # fmt: skip
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        visited[path] = page.evaluate("window.__csp")
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible()

    assert all(found == [] for found in visited.values()), visited
    assert [text for text in console if "Content Security Policy" in text] == []
