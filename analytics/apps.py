"""Scores (RFM, CLV, P(alive), churn risk), recommendations, reports and charts."""

from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# One wiring module per area registers its segment conditions, 360 panels and hooks.
WIRING = ["segments", "panels", "merge"]


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        for area in WIRING:
            import_module(f"analytics.wiring.{area}")
