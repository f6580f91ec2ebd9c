"""In a real browser: an agent opens a case from the 360 page, adds a note, resolves it; the customer answers
the survey through the link of the email."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from channels.models import Case, SatisfactionSurvey
from channels.services.surveys import surveys_send_due
from tests.customers_factories import CustomerFactory, EmailFactory
from tests.factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_agent_works_a_case_and_the_customer_rates_it(page, live_server, make_staff, settings):
    make_staff("Agent", username="marc.desk", first_name="Marc")
    customer = CustomerFactory(given_name="Inès", family_name="Moreau", language="en")
    EmailFactory(customer=customer, value="ines.moreau@example.fr")
    settings.SITE_URL = live_server.url

    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.fill("input[name=username]", "marc.desk")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Hello, Marc")).to_be_visible()

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.get_by_role("link", name="Case", exact=True).click()
    page.fill("input[name=subject]", "Washing machine leaks")
    page.select_option("select[name=category]", "complaint")
    page.get_by_role("button", name="Open the case").click()

    case = Case.objects.get(customer=customer)
    expect(page.get_by_test_id("case-number")).to_have_text(case.number)
    page.fill("#note-text", "Technician visit proposed for Tuesday.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_test_id("case-thread")).to_contain_text("Technician visit proposed for Tuesday.")
    page.get_by_test_id("status-form").get_by_role("button", name="Resolved").click()
    expect(page.get_by_test_id("case-status").first).to_have_text("Resolved")
    expect(page.get_by_test_id("case-survey")).to_contain_text("Survey planned")

    # The delay has passed: the beat job sends the survey email.
    SatisfactionSurvey.objects.filter(case=case).update(send_after=case.created_at)
    assert surveys_send_due()["sent"] == 1
    link = re.search(r"https?://\S+/channels/survey/\S+/", mail.outbox[-1].body).group(0)

    customer_page = page.context.browser.new_page()
    customer_page.goto(link)
    customer_page.locator("label[for=score-5]").click()
    customer_page.fill("#id_comment", "Fixed in two days, thank you")
    customer_page.get_by_role("button", name="Send my answer").click()
    expect(customer_page.get_by_test_id("survey-thanks")).to_contain_text("5/5")
    customer_page.close()

    page.reload()
    expect(page.get_by_test_id("survey-score")).to_have_text("5/5")
    expect(page.get_by_test_id("case-thread")).to_contain_text("Satisfaction 5/5")
