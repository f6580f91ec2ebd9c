"""The demo shop page and its site seeder."""

from __future__ import annotations

import pytest

from channels.demo_web import DEMO_SITE_KEY, seed_web
from channels.models import Site
from crm.demo import DemoOptions, demo_seeders
from tests.customers_factories import ProductFactory

pytestmark = pytest.mark.django_db
URL = "/channels/web/demo/"


def test_the_seeder_creates_the_demo_site_once():
    assert "channels_web" in {seeder.name for seeder in demo_seeders()}

    seed_web(DemoOptions(customers=0))
    seed_web(DemoOptions(customers=0))

    assert Site.objects.filter(key=DEMO_SITE_KEY, is_active=True).count() == 1


def test_anyone_sees_the_shop_with_track_js_and_the_demo_key(client):
    seed_web(DemoOptions(customers=0))
    ProductFactory(sku="LAMP-1", name="Lampe bleue")

    page = client.get(URL).content.decode()

    assert "Lampe bleue" in page and 'data-testid="add-LAMP-1"' in page
    assert "relais/track.js" in page and f'data-site-key="{DEMO_SITE_KEY}"' in page
    assert 'data-endpoint="/api/v1/channels/events/"' in page
    assert "data-require-consent" not in page


def test_the_consent_variant_asks_first(client):
    seed_web(DemoOptions(customers=0))

    page = client.get(URL + "?consent=required").content.decode()

    assert "data-require-consent" in page
    assert 'data-testid="consent-banner"' in page


def test_without_the_demo_site_the_page_says_how_to_create_it_and_sends_nothing(client):
    page = client.get(URL).content.decode()

    assert 'data-testid="demo-no-site"' in page and "seed_demo" in page
    assert "relais/track.js" not in page
    assert 'data-testid="demo-no-products"' in page


def test_track_js_stays_under_4_kb():
    from django.contrib.staticfiles import finders

    with open(finders.find("relais/track.js"), "rb") as script:
        assert len(script.read()) < 4096
