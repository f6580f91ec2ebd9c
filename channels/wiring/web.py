"""Wiring of the web area (registered from ChannelsConfig.ready): the 360 page's "On the web" panel
and the demo shop's site seeder."""

from django.utils.translation import gettext_lazy as _

import channels.demo_web  # noqa: F401 (registers the demo seeder)
from channels.views.web import web_panel_context
from customers.panels import Panel, panel_register

WEB_PANEL = Panel(
    "web_activity",
    _("On the web"),
    template="channels/web/panel.html",
    context=web_panel_context,
    icon="globe-alt",
    column="side",
    order=45,
    permission="channels.view_webevent",
)
panel_register(WEB_PANEL)
