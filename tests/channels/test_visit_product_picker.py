"""The visit form's "products discussed": a search picker on product name or code (FR/EN), whose
chosen products arrive as repeated values."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.models import Interaction
from tests.customers_factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_the_picker_finds_products_by_name_or_code_and_the_visit_keeps_the_chosen_ones(client, agent, marketer):
    box = ProductFactory(sku="BOX-FIBRE", name="Box Fibre")
    tv = ProductFactory(sku="TV-4K", name="Décodeur TV 4K")
    ProductFactory(sku="OLD-1", name="Box ADSL", is_active=False)
    customer = CustomerFactory()
    client.force_login(agent)
    url = reverse("channels:product_picker_hx")

    by_name = client.get(url, {"q": "box"}).content.decode()
    by_code = client.get(url, {"q": "tv-4"}).content.decode()
    none_fr = client.get(url, {"q": "zzz"}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    local = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("channels:visit_log", kwargs={"pk": customer.pk}), {
        "store": "Agence", "reason": "Conseil", "products": [box.sku, tv.sku], "q": "", "occurred_at": local,
    })  # fmt: skip

    assert re.findall(r'data-value="([^"]*)"', by_name) == ["BOX-FIBRE"]  # the inactive one is not offered
    assert 'role="option"' in by_name and "Box Fibre (BOX-FIBRE)" in by_name
    assert re.findall(r'data-value="([^"]*)"', by_code) == ["TV-4K"]
    assert "Rien ne correspond" in none_fr
    visit = Interaction.objects.get(customer=customer, kind="visit")
    assert [p["sku"] for p in visit.metadata["products"]] == ["BOX-FIBRE", "TV-4K"]
    client.force_login(marketer)
    assert client.get(url, {"q": "box"}).status_code == 403


def test_a_refused_visit_shows_the_chosen_products_again_by_name(client, agent):
    ProductFactory(sku="BOX-FIBRE", name="Box Fibre")
    customer = CustomerFactory()
    client.force_login(agent)

    page = client.post(reverse("channels:visit_log", kwargs={"pk": customer.pk}), {
        "store": "", "reason": "Conseil", "products": ["BOX-FIBRE"],
    }).content.decode()  # fmt: skip

    assert 'name="products" value="BOX-FIBRE"' in page and "Box Fibre (BOX-FIBRE)" in page
    assert 'aria-label="Remove Box Fibre (BOX-FIBRE)"' in page
