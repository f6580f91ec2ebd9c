"""Choices of the channels app: the timeline, the service desk and the channel adapters."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InteractionChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    WEB = "web", _("Web")
    FACE_TO_FACE = "face_to_face", _("Face to face")
    POSTAL_MAIL = "postal_mail", _("Postal mail")
    SMS = "sms", _("SMS")
    CHAT = "chat", _("Chat")
    SOCIAL = "social", _("Social")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    WEB_SESSION = "web_session", _("Web session")
    VISIT = "visit", _("Visit")
    LETTER = "letter", _("Letter")
    SMS = "sms", _("SMS")
    CHAT = "chat", _("Chat")
    FORM = "form", _("Form")
    NOTE = "note", _("Note")
    SURVEY = "survey", _("Survey")


class CaseCategory(models.TextChoices):
    REQUEST = "request", _("Request")
    COMPLAINT = "complaint", _("Complaint")
    INFORMATION = "information", _("Information")
    CLAIM = "claim", _("Claim")


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", pgettext_lazy("case status", "Open")
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_CASE_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING)


class AssignmentRule(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin among available agents")
    MANUAL = "manual", _("Manual pull")


class ConversationKind(models.TextChoices):
    EMAIL = "email", _("Email thread")
    CHAT = "chat", _("Chat")
    SMS = "sms", _("SMS thread")


class ConversationStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for an agent")
    OPEN = "open", pgettext_lazy("conversation status", "Open")
    CLOSED = "closed", _("Closed")


class ChatAuthor(models.TextChoices):
    VISITOR = "visitor", _("Visitor")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System")


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")


class CallbackStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ASSIGNED = "assigned", _("Assigned")
    DONE = "done", _("Done")
    UNREACHABLE = "unreachable", _("Could not reach")
    CANCELLED = "cancelled", _("Cancelled")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task status", "Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class WebEventType(models.TextChoices):
    PAGE_VIEW = "page_view", _("Page view")
    PRODUCT_VIEW = "product_view", _("Product view")
    CART_ADD = "cart_add", _("Added to cart")
    CART_ABANDON = "cart_abandon", _("Abandoned cart")
    FORM_SUBMIT = "form_submit", _("Form submitted")
    CLICK = "click", _("Click")
    LOGIN = "login", _("Signed in")


class LetterStatus(models.TextChoices):
    RENDERED = "rendered", _("Rendered")
    SENT = "sent", _("Sent to the mail house")
    RETURNED = "returned", _("Returned undelivered")


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    SKIPPED = "skipped", _("Not sent")


class TemplateChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")
