from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# One wiring module per area registers its 360 panels, composer actions, sidebar entries and hooks.
WIRING = ["timeline", "calls", "email", "sms", "postal", "web", "chat", "desk"]


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = _("Channels")

    def ready(self):
        for area in WIRING:
            import_module(f"channels.wiring.{area}")
