"""Wiring of the postal area (registered from ChannelsConfig.ready): the "Letter" action above the 360
timeline and the "Letters" sidebar entry (batches for the mail house)."""

from django.utils.translation import gettext_lazy as _

from channels.composer import ComposerAction, composer_action_register
from crm.navigation import NavItem, nav_register

composer_action_register(
    ComposerAction(
        key="letter",
        label=_("Letter"),
        url_name="channels:letter_compose",
        icon="envelope",
        permission="channels.add_letter",
        order=50,
    )  # fmt: skip
)
nav_register(
    NavItem("letter_batches", _("Letters"), "channels:letter_batches", "envelope-open",
            permission="channels.view_letterbatch", order=45,
            description=_("Letter batches for the mail house: one PDF, the address file, what was left out."))
)  # fmt: skip
