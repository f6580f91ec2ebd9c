"""Segments in the sidebar, and their members followed through customer merges."""

from django.utils.translation import gettext_lazy as _

from crm.navigation import NavItem, nav_register
from customers.services.merge import merge_handler_register


def _members_merge(survivor, duplicate) -> None:
    from campaigns.services.segments import segment_members_merge

    segment_members_merge(survivor, duplicate)


nav_register(
    NavItem(
        "segments", _("Segments"), "campaigns:segment_list", "funnel", permission="campaigns.view_segment", order=40,
        description=_("Groups of customers built from rules or lists, with a live count: the audiences of campaigns."),
    )
)  # fmt: skip
merge_handler_register("campaigns.SegmentMember", _members_merge)
