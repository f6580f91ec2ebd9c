"""Models of the campaigns app (one module per topic)."""

from campaigns.models.segments import Segment, SegmentMember, SegmentMembershipChange, SegmentSizeSnapshot

__all__ = [
    "Segment",
    "SegmentMember",
    "SegmentMembershipChange",
    "SegmentSizeSnapshot",
]
