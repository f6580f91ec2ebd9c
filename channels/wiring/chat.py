"""Wiring of the chat area (registered from ChannelsConfig.ready): sidebar entry, 360 call-back panel."""

from django.utils.translation import gettext_lazy as _

from crm.navigation import NavItem, nav_register
from customers.panels import Panel, panel_register


def _callbacks_context(*, customer, user) -> dict:
    from channels.services.callbacks import callbacks_pending_for_customer

    return {"callbacks": callbacks_pending_for_customer(customer=customer)}


nav_register(
    NavItem(
        key="chats",
        label=_("Chats and call-backs"),
        url_name="channels:chat_queue",
        icon="chat-bubble-left-right",
        description=_("Answer website chats and call-back requests"),
        permission="channels.use_console",
        order=25,
    )
)
panel_register(
    Panel(
        "callbacks",
        _("Call-backs"),
        template="channels/chat/panel_callbacks.html",
        context=_callbacks_context,
        icon="phone-arrow-up-right",
        order=15,
        permission="channels.view_callbackrequest",
    )
)
