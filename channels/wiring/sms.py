"""Wiring of the sms area (registered from ChannelsConfig.ready): the "SMS" action above the 360 timeline."""

from django.utils.translation import gettext_lazy as _

from channels.composer import ComposerAction, composer_action_register

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
