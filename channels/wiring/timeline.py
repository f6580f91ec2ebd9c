"""Wiring of the timeline area (registered from ChannelsConfig.ready).

The 360 page's timeline and cost-of-service panels, the "log a call / visit / note" composer actions,
the merge rule for visitor links and the GDPR erase hook for the channels' free text.
"""

from django.utils.translation import gettext_lazy as _

from channels.composer import ComposerAction, composer_action_register
from channels.services.timeline_privacy import channels_erase_free_text, visitor_links_merge
from channels.views.timeline import cost_panel_context, timeline_panel_context
from customers.panels import Panel, panel_register
from customers.services.gdpr import ERASE_HOOKS
from customers.services.merge import merge_handler_register

panel_register(
    Panel("timeline", _("Timeline"), template="channels/timeline/panel.html", context=timeline_panel_context,
          icon="clock", column="centre", order=10, permission="channels.view_interaction")
)  # fmt: skip
panel_register(
    Panel("cost_of_service", _("Cost of service (12 months)"), template="channels/timeline/costs.html",
          context=cost_panel_context, icon="banknotes", column="side", order=50,
          permission="channels.view_interaction")
)  # fmt: skip

composer_action_register(ComposerAction("call_log", _("Log a call"), "channels:call_log", "phone-arrow-up-right",
                                        permission="channels.add_interaction", order=10))  # fmt: skip
composer_action_register(ComposerAction("visit_log", _("Log a visit"), "channels:visit_log", "building-storefront",
                                        permission="channels.add_interaction", order=20))  # fmt: skip
composer_action_register(ComposerAction("note_add", _("Add a note"), "channels:note_add", "pencil-square",
                                        permission="channels.add_interaction", order=90))  # fmt: skip

merge_handler_register("channels.VisitorLink", visitor_links_merge)
if channels_erase_free_text not in ERASE_HOOKS:
    ERASE_HOOKS.append(channels_erase_free_text)
