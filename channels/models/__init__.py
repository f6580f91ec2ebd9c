"""Models of the channels app (one module per topic).

Foreign keys between customer-keyed tables are ``db_constraint=False`` in Django and composite
``(customer_id, <fk>_id)`` constraints in PostgreSQL (migration 0002), per DESIGN.md section 4.
"""

from channels.models.calls import AgentProfile, CallSession
from channels.models.config import ChannelCost, Mailbox, ResponseTemplate, Site
from channels.models.conversations import CallbackRequest, ChatMessage, Conversation
from channels.models.desk import Case, FollowUp, Queue, QueueMember, SlaPolicy
from channels.models.interactions import Attachment, Interaction
from channels.models.postal import Letter, LetterBatch
from channels.models.surveys import SatisfactionSurvey
from channels.models.web import VisitorLink, WebEvent

__all__ = [
    "AgentProfile",
    "Attachment",
    "CallSession",
    "CallbackRequest",
    "Case",
    "ChannelCost",
    "ChatMessage",
    "Conversation",
    "FollowUp",
    "Interaction",
    "Letter",
    "LetterBatch",
    "Mailbox",
    "Queue",
    "QueueMember",
    "ResponseTemplate",
    "SatisfactionSurvey",
    "Site",
    "SlaPolicy",
    "VisitorLink",
    "WebEvent",
]
