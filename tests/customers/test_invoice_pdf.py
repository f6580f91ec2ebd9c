"""The invoice PDF, read back from its uncompressed content stream (pypdf is not installed)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.customers_factories import AddressFactory, CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def test_it_renders_the_number_amount_dates_and_the_address_block(client, agent):
    customer = CustomerFactory(given_name="Ana", family_name="Lopez")
    AddressFactory(customer=customer, line1="MME ANA LOPEZ", line4="3 RUE DES LILAS", line6="69003 LYON")
    invoice = InvoiceFactory(customer=customer, number="FAC-2026-0042", amount=Decimal("1234.50"),
                             issued_on=datetime.date(2026, 10, 1), status="paid")  # fmt: skip
    client.force_login(agent)
    response = client.get(reverse("customers:invoice_pdf", args=[customer.pk, invoice.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = response.content.decode("latin-1")
    for expected in ("(Invoice FAC-2026-0042)", "(1,234.50 \\200)", "(MME ANA LOPEZ)", "(69003 LYON)",
                     "(3 RUE DES LILAS)", "(01/10/2026)", "(Paid)", customer.account_number):  # fmt: skip
        assert expected in text, expected


def test_it_is_in_french_for_a_french_speaking_agent(client, agent):
    invoice = InvoiceFactory(amount=Decimal("1234.50"))
    client.force_login(agent)
    url = reverse("customers:invoice_pdf", args=[invoice.customer_id, invoice.pk])
    text = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode("latin-1")
    assert invoice.number in text and "234,50" in text  # French decimal comma


def test_another_customers_invoice_is_not_found_and_nothing_leaks(client, agent):
    invoice = InvoiceFactory(number="FAC-SECRET-1")
    response = client.get(reverse("customers:invoice_pdf", args=[CustomerFactory().pk, invoice.pk]))
    assert response.status_code == 302  # anonymous: to the sign-in page
    client.force_login(agent)
    response = client.get(reverse("customers:invoice_pdf", args=[CustomerFactory().pk, invoice.pk]))
    assert response.status_code == 404 and b"FAC-SECRET-1" not in response.content
