"""Wiring of the sms area (registered from ChannelsConfig.ready): the "SMS" action above the 360 timeline,
and the merge rule that keeps one open SMS thread per customer."""

from django.utils.translation import gettext_lazy as _

from channels.composer import ComposerAction, composer_action_register
from channels.services.sms import sms_threads_merge
from customers.services.merge import merge_handler_register

composer_action_register(
    ComposerAction(
        key="sms",
        label=_("SMS"),
        url_name="channels:sms_compose",
        icon="device-phone-mobile",
        permission="channels.reply_customer",
        order=30,
    )  # fmt: skip
)

merge_handler_register("channels.Conversation", sms_threads_merge)
