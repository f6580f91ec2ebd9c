"""Wiring of the email area (registered from ChannelsConfig.ready): the "Email" action above the 360 timeline."""

from django.utils.translation import gettext_lazy as _

from channels.composer import ComposerAction, composer_action_register

composer_action_register(
    ComposerAction(
        key="email",
        label=_("Email"),
        url_name="channels:email_compose",
        icon="envelope",
        permission="channels.reply_customer",
        order=20,
    )  # fmt: skip
)
