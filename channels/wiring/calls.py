"""Wiring of the calls area (registered from ChannelsConfig.ready): the phone console in the sidebar and
the screen pop publisher the call-event service runs after a ringing event commits."""

from django.utils.translation import gettext_lazy as _

from channels.services.calls import screen_pop_publisher_register
from channels.views.calls_card import screen_pop_publish
from crm.navigation import NavItem, nav_register

nav_register(
    NavItem(
        "phone_console", _("Phone"), "channels:console", "phone", permission="channels.use_console", order=20,
        description=_("Your phone console: the caller's card pops up when the phone rings; log each call."),
    )
)  # fmt: skip
screen_pop_publisher_register(screen_pop_publish)
