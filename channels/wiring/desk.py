"""Wiring of the desk area (registered from ChannelsConfig.ready).

The 360 page's "Cases" side panel (replacing the default empty one), the "Case" composer action, and
the sidebar entries "My work", "Cases" and (supervisors) "Queues".
"""

from django.utils.translation import gettext_lazy as _

from channels.composer import ComposerAction, composer_action_register
from channels.selectors_desk import customer_cases
from crm.navigation import NavItem, nav_register
from customers.panels import Panel, panel_register

panel_register(
    Panel("cases", _("Cases"), template="channels/desk/panel_cases.html", context=customer_cases,
          icon="lifebuoy", column="side", order=10, permission="channels.view_case")
)  # fmt: skip

composer_action_register(ComposerAction("case_create", _("Case"), "channels:case_create", "lifebuoy",
                                        permission="channels.add_case", order=60))  # fmt: skip

nav_register(
    NavItem("my_work", _("My work"), "channels:my_work", "inbox-stack", permission="channels.use_console", order=5,
            description=_("Your cases, call-backs, chats and follow-up tasks, soonest due first."))
)  # fmt: skip
nav_register(
    NavItem("cases", _("Cases"), "channels:case_list", "lifebuoy", permission="channels.view_case", order=20,
            description=_("Requests, complaints and claims from every channel, with their SLA due dates."))
)  # fmt: skip
nav_register(
    NavItem("queues", _("Queues"), "channels:supervisor", "queue-list", permission="channels.supervise_queues",
            order=25, description=_("Queue load, SLA breaches and who holds what; reassign from there."))
)  # fmt: skip
