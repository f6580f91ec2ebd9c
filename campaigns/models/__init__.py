"""Models of the campaigns app (one module per topic)."""

from campaigns.models.outbox import (  # noqa: F401  (campaigns, templates, the outbox, pressure, tracking)
    Campaign,
    CampaignChannel,
    CampaignEvent,
    CampaignStatus,
    CampaignStep,
    Message,
    MessageStatus,
    PressurePolicy,
    SenderIdentity,
    SkipReason,
    StepKind,
    Suppression,
    Template,
    TrackingEvent,
    TrackingKind,
)  # fmt: skip
from campaigns.models.segments import Segment, SegmentMember, SegmentMembershipChange, SegmentSizeSnapshot

__all__ = [
    "Segment",
    "SegmentMember",
    "SegmentMembershipChange",
    "SegmentSizeSnapshot",
]
