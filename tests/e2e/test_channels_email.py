"""In a real browser: a hostile inbound email shows as text on the 360 page and in its thread, never runs;
the agent replies from the thread and the customer receives the reply over SMTP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from channels.models import Interaction
from channels.services.email_in import email_inbound_record
from tests.channels import email_support
from tests.channels.email_support import build_message
from tests.customers_factories import CustomerFactory, EmailFactory
from tests.factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
media = email_support.media

PAYLOAD = """<p>Hello <b>team</b>, my parcel never arrived.</p>
<script>window.__xss = 1; alert('script')</script>
<img src="x" onerror="window.__xss = 2; alert('img')">
<a href="javascript:window.__xss = 3" id="js-link">tracking link</a>
<svg><script>window.__xss = 4</script></svg>
<iframe srcdoc="&lt;script&gt;parent.__xss = 5&lt;/script&gt;"></iframe>
<div style="background:url(javascript:window.__xss=6)" onmouseover="window.__xss = 7">hover me</div>"""


def test_an_email_with_scripts_never_runs_and_the_agent_replies_from_the_thread(page, live_server, make_staff,
                                                                               media, smtp_sink):  # fmt: skip
    make_staff("Agent", username="lea.dubois", first_name="Léa")
    customer = CustomerFactory(given_name="Mallory", family_name="Martin")
    EmailFactory(customer=customer, value="mallory@example.net", is_primary=True)
    result = email_inbound_record(raw=build_message(
        sender='"<img src=x onerror=window.__xss=8>" <mallory@example.net>',
        subject="<script>window.__xss=9</script> Where is my parcel?", message_id="<xss@example.net>",
        body="Hello team, my parcel never arrived.", html=PAYLOAD,
    ))  # fmt: skip
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.fill("input[name=username]", "lea.dubois")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Hello, Léa")).to_be_visible()

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.get_by_test_id("customer-name")).to_have_text("Mallory Martin")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__xss") is None

    page.goto(f"{live_server.url}/channels/email/threads/{result.conversation.pk}/")
    message = page.get_by_test_id("email-message")
    expect(message).to_contain_text("my parcel never arrived")
    expect(
        page.get_by_role("heading", name="<script>window.__xss=9</script> Where is my parcel?").first
    ).to_be_visible()
    page.get_by_text("hover me").hover()
    page.get_by_text("tracking link").click()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__xss") is None
    assert dialogs == []

    page.get_by_test_id("reply").click()
    expect(page.locator("#id_subject")).to_have_value("Re: <script>window.__xss=9</script> Where is my parcel?")
    page.fill("#id_body", "Hello Mallory,\nYour parcel left our warehouse today.")
    page.get_by_test_id("send-email").click()
    expect(page.get_by_text("Email sent to mallory@example.net.")).to_be_visible()
    expect(page.get_by_test_id("email-message")).to_have_count(2)
    assert page.evaluate("window.__xss") is None and dialogs == []

    [sent] = smtp_sink.messages()
    assert sent["In-Reply-To"] == "<xss@example.net>"
    assert Interaction.objects.get(direction="outbound").external_id == sent["Message-ID"].strip("<>")
