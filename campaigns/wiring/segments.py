"""Segments in the sidebar, and their members followed through customer merges."""

from customers.services.merge import merge_handler_register


def _members_merge(survivor, duplicate) -> None:
    from campaigns.services.segments import segment_members_merge

    segment_members_merge(survivor, duplicate)


# The sidebar entry (NavItem "segments" -> campaigns:segment_list) is registered once the screens exist.
merge_handler_register("campaigns.SegmentMember", _members_merge)
