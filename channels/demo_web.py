"""Demo data of the web area: the demo shop's site (its public key is used by /channels/web/demo/)."""

from __future__ import annotations

from crm.demo import DemoOptions, DemoSeeder, demo_seeder_register

DEMO_SITE_KEY = "relais-demo-shop"
DEMO_SITE_NAME = "Relais demo shop"


def demo_site_ensure():
    """The demo shop's ``Site`` (created once; same-origin pages of Relais need no allowed origin)."""
    from channels.models import Site

    site, _created = Site.objects.get_or_create(
        key=DEMO_SITE_KEY,
        defaults={"name": DEMO_SITE_NAME, "allowed_origins": "http://localhost:8000\nhttp://127.0.0.1:8000"},
    )
    return site


def seed_web(options: DemoOptions) -> str:
    site = demo_site_ensure()
    # Seeder summaries are operator output in English, like the other seeders'.
    return f"web: demo site “{site.name}”, key {site.key}"


demo_seeder_register(DemoSeeder("channels_web", seed_web, order=60))
