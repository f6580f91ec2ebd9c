from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# One wiring module per area registers its sidebar entries and hooks (as channels/wiring does).
WIRING = ["segments"]


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        for area in WIRING:
            import_module(f"campaigns.wiring.{area}")
