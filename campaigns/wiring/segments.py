"""Segments in the sidebar, and their members followed through customer merges."""

from django.utils.translation import gettext_lazy as _

from crm.navigation import NavItem, nav_register
from customers.services.merge import merge_handler_register


def _members_merge(survivor, duplicate) -> None:
    from campaigns.services.segments import segment_members_merge

    segment_members_merge(survivor, duplicate)


nav_register(
    NavItem("segments", _("Segments"), "campaigns:segment_list", "user-group", permission="campaigns.view_segment",
            order=60, description=_("Who your campaigns speak to: rules with a live count, or frozen lists."))
)  # fmt: skip
merge_handler_register("campaigns.SegmentMember", _members_merge)
nav_register(
    NavItem("campaigns", _("Campaigns"), "campaigns:campaign_list", "megaphone", permission="campaigns.view_campaign",
            order=61, description=_("Campaigns: audience, message, schedule, and their live progress."))
)  # fmt: skip
nav_register(
    NavItem("campaign_templates", _("Templates"), "campaigns:template_list", "document-text",
            permission="campaigns.view_template", order=62,
            description=_("Campaign messages per channel and language, previewed on a real customer."))
)  # fmt: skip
