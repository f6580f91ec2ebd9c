"""Wiring of the calls area (registered from ChannelsConfig.ready): the phone console in the sidebar."""

from django.utils.translation import gettext_lazy as _

from crm.navigation import NavItem, nav_register

nav_register(
    NavItem(
        "phone_console", _("Phone"), "channels:console", "phone", permission="channels.use_console", order=20,
        description=_("Your phone console: the caller's card pops up when the phone rings; log each call."),
    )
)  # fmt: skip
