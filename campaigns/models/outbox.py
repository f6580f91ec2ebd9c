"""Campaigns and the outbox: templates per channel and language, campaigns and their steps, one
``Message`` row per customer x step (the work to do and its history), the contact-pressure policy,
suppressions, sender identities and tracking events.

``Message`` is the outbox (DESIGN.md section 6): the database is the source of truth, Redis only wakes
the dispatch workers up. It is keyed by customer like the other large tables (section 4).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class CampaignChannel(models.TextChoices):
    """The channels a campaign step sends on (values are the consent ledger's channel names)."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    POSTAL_MAIL = "postal_mail", _("Postal mail")
    PHONE = "phone", _("Call task")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class StepKind(models.TextChoices):
    SEND = "send", _("Send a message")


class MessageStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    CLAIMED = "claimed", _("Claimed by a worker")
    SENDING = "sending", _("Handed over (unconfirmed)")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Complaint")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


# Statuses of a message that left Relais: they count toward the contact pressure.
SENT_STATUSES = (
    MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.OPENED, MessageStatus.CLICKED,
    MessageStatus.BOUNCED, MessageStatus.COMPLAINED, MessageStatus.UNSUBSCRIBED,
)  # fmt: skip


class SkipReason(models.TextChoices):
    """Why a member did not (or will not) receive a step's message; also why one was deferred."""

    NO_CONSENT = "no_consent", _("No consent for this channel and purpose")
    WITHDRAWN = "withdrawn", _("Consent withdrawn")
    NO_CONTACT_POINT = "no_contact_point", _("No contact point for this channel")
    UNDELIVERABLE = "undeliverable", _("Contact point or address undeliverable")
    SUPPRESSED = "suppressed", _("On the suppression list")
    NOT_LIVE = "not_live", _("Merged or anonymised customer")
    OVER_BUDGET = "over_budget", _("Over the contact-pressure budget (deferred)")
    QUIET_HOURS = "quiet_hours", _("Quiet hours (deferred)")
    CANCELLED = "cancelled", _("Campaign cancelled")
    RENDER_ERROR = "render_error", _("The template could not be rendered")
    REFUSED = "refused", _("Refused by the provider")
    UNCERTAIN = "uncertain", _("Handover not confirmed (not resent)")


class Template(models.Model):
    """A message's text for one channel and one language; a campaign picks the customer's language.

    Versions of one template share ``name`` and ``channel``. Email uses ``subject``, ``html``,
    ``text`` (plain-text part) and ``preheader``; SMS, letter and call script use ``body``.
    Rendering is sandboxed (``campaigns.services.templates``).
    """

    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(_("channel"), max_length=20, choices=CampaignChannel.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="fr")
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    preheader = models.CharField(_("preheader"), max_length=255, blank=True)
    html = models.TextField(_("HTML"), blank=True)
    text = models.TextField(_("plain-text part"), blank=True)
    body = models.TextField(_("text"), blank=True, help_text=_("SMS text, letter body or call script."))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("campaign template")
        verbose_name_plural = _("campaign templates")
        ordering = ["name", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["name", "channel", "language"], name="campaign_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()}, {self.language})"


class SenderIdentity(models.Model):
    """Who a campaign says it comes from: email From / Reply-To, SMS sender name."""

    name = models.CharField(_("name"), max_length=100)
    from_email = models.EmailField(_("from address"), blank=True)
    from_name = models.CharField(_("from name"), max_length=100, blank=True)
    reply_to = models.EmailField(_("reply-to"), blank=True)
    sms_sender = models.CharField(_("SMS sender"), max_length=11, blank=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("sender identity")
        verbose_name_plural = _("sender identities")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                               name="sender_identity_one_default")]  # fmt: skip

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """Who (segments minus exclusions), what (its steps), when, and its status.

    Status changes go through ``campaigns.services.campaigns`` only (one audited service each).
    """

    name = models.CharField(_("name"), max_length=200)
    objective = models.TextField(_("objective"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="campaigns", verbose_name=_("owner"))  # fmt: skip
    segments = models.ManyToManyField("campaigns.Segment", related_name="campaigns", blank=True,
                                      verbose_name=_("audience"))  # fmt: skip
    exclusion_segments = models.ManyToManyField("campaigns.Segment", related_name="excluded_from_campaigns",
                                                blank=True, verbose_name=_("excluded"))  # fmt: skip
    purpose = models.CharField(_("purpose"), max_length=12, default="marketing",
                               choices=[("marketing", _("Marketing")), ("service", _("Service"))])  # fmt: skip
    priority = models.PositiveSmallIntegerField(_("priority"), default=3,
                                                validators=[MinValueValidator(1), MaxValueValidator(5)],
                                                help_text=_("1 (lowest) to 5 (highest)."))  # fmt: skip
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True, help_text=_("Empty: send now."))
    sender = models.ForeignKey(SenderIdentity, on_delete=models.PROTECT, null=True, blank=True,
                               verbose_name=_("sender"))  # fmt: skip
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT)  # fmt: skip
    attribution_days = models.PositiveSmallIntegerField(_("attribution window (days)"), default=7)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=5), name="campaign_priority_range"),
        ]
        indexes = [models.Index(fields=["status"], name="campaign_status")]
        permissions = [("manage_campaign", _("Create, launch and stop campaigns"))]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("campaigns:campaign_detail", args=[self.pk])

    @property
    def send_step(self) -> CampaignStep | None:
        return self.steps.filter(kind=StepKind.SEND).order_by("position").first()


class CampaignStep(models.Model):
    """One ordered step of a campaign. This part ships "send"; journeys (waits, branches) add kinds."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    kind = models.CharField(_("kind"), max_length=10, choices=StepKind.choices, default=StepKind.SEND)
    channel = models.CharField(_("channel"), max_length=20, choices=CampaignChannel.choices)
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="steps")
    letter_batch_id = models.BigIntegerField(null=True, blank=True, editable=False)
    planned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign step")
        verbose_name_plural = _("campaign steps")
        ordering = ["campaign", "position"]
        constraints = [models.UniqueConstraint(fields=["campaign", "position"], name="campaign_step_position")]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.position} ({self.get_kind_display()})"


class CampaignEvent(models.Model):
    """The audit trail of a campaign: each status change with who made it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, choices=CampaignStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=CampaignStatus.choices)
    acting_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")  # fmt: skip
    detail = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("campaign event")
        verbose_name_plural = _("campaign events")
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.from_status} -> {self.to_status}"


class Message(models.Model):
    """The outbox: one row per (campaign, step, customer), planned, claimed, sent... or skipped with a reason.

    ``message_id`` (the RFC 5322 Message-ID / the provider's idempotency key) is written at planning,
    before any handover, so a crash after the handover can be checked instead of resent. ``not_before``
    is when the message may go (deferred by pressure or quiet hours); ``lease_expires_at`` bounds a
    worker's claim. Counting toward the contact pressure: a message claimed, being handed over or sent.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="campaign_messages")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    step = models.ForeignKey(CampaignStep, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(_("channel"), max_length=20, choices=CampaignChannel.choices)
    purpose = models.CharField(_("purpose"), max_length=12, default="marketing")
    priority = models.PositiveSmallIntegerField(default=3)
    language = models.CharField(max_length=8, default="fr")
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus.choices,
                              default=MessageStatus.PLANNED)  # fmt: skip
    reason = models.CharField(_("reason"), max_length=20, choices=SkipReason.choices, blank=True)
    to_address = models.CharField(_("to"), max_length=254, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    reserved_at = models.DateTimeField(null=True, blank=True, help_text=_("When the pressure budget was taken."))
    handover_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    interaction_id = models.BigIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    planned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "step", "customer"], name="message_once_per_step"),
            models.UniqueConstraint(fields=["customer", "id"], name="message_customer_id"),
        ]
        indexes = [
            # What the dispatch workers claim: planned and due, per campaign.
            models.Index(
                fields=["campaign", "not_before", "id"], name="message_due", condition=Q(status="planned")
            ),  # fmt: skip
            # What the sweeper looks at: claims whose lease may have expired.
            models.Index(
                fields=["lease_expires_at"], name="message_leased", condition=Q(status__in=["claimed", "sending"])
            ),  # fmt: skip
            # The pressure budget: a customer's contacts, newest first.
            models.Index(
                fields=["customer", "reserved_at"], name="message_pressure", condition=Q(reserved_at__isnull=False)
            ),  # fmt: skip
            models.Index(fields=["customer", "-planned_at"], name="message_customer"),
            models.Index(fields=["campaign", "status"], name="message_campaign_status"),
            models.Index(fields=["message_id"], name="message_message_id", condition=~Q(message_id="")),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id}: {self.status}"


class TrackingKind(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    OPEN = "open", _("Opened")
    CLICK = "click", _("Clicked")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")
    BOUNCE = "bounce", _("Bounced")
    COMPLAINT = "complaint", _("Complaint")


class TrackingEvent(models.Model):
    """What happened to a sent message: delivery, open, click, unsubscribe, bounce, complaint."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, db_constraint=False, related_name="events")
    campaign_id = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=TrackingKind.choices)
    url = models.URLField(max_length=2000, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["occurred_at", "id"]
        constraints = [models.UniqueConstraint(fields=["customer", "id"], name="tracking_event_customer_id")]
        indexes = [
            models.Index(fields=["message", "kind"], name="tracking_event_message"),
            models.Index(fields=["campaign_id", "kind", "occurred_at"], name="tracking_event_campaign"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"


class Suppression(models.Model):
    """An address or number that never receives a campaign again (complaint, hard bounce, by hand).

    Keyed by the normalised value, not by customer: a suppressed address stays suppressed when it
    moves to another record.
    """

    class Reason(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        MANUAL = "manual", _("Added by hand")

    channel = models.CharField(_("channel"), max_length=20, choices=CampaignChannel.choices)
    value = models.CharField(_("address or number"), max_length=254)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, default=Reason.MANUAL)
    message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["channel", "value"], name="suppression_unique")]

    def __str__(self) -> str:
        return f"{self.channel}: {self.value}"


class PressurePolicy(models.Model):
    """One contact-pressure budget per customer across every channel and campaign (the active row).

    Counted: marketing messages reserved or sent. Service messages are exempt unless
    ``service_per_day`` caps them. ``channel_caps`` maps a channel to ``[count, days]``.
    """

    name = models.CharField(_("name"), max_length=100, default="Default")
    is_active = models.BooleanField(_("active"), default=True)
    max_per_window = models.PositiveSmallIntegerField(_("contacts per rolling window"), default=3)
    window_days = models.PositiveSmallIntegerField(_("rolling window (days)"), default=7)
    max_per_day = models.PositiveSmallIntegerField(_("contacts per day"), default=1)
    quiet_start = models.TimeField(_("quiet hours from"), default=datetime.time(21, 0), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), default=datetime.time(8, 0), null=True, blank=True)
    skip_sundays = models.BooleanField(_("no contact on Sundays"), default=True)
    skip_holidays = models.BooleanField(_("no contact on French public holidays"), default=True)
    channel_caps = models.JSONField(_("per-channel caps"), default=dict, blank=True,
                                    help_text=_('e.g. {"sms": [2, 30]}: at most 2 SMS per 30 days.'))  # fmt: skip
    service_exempt = models.BooleanField(_("service messages exempt"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("pressure policy")
        verbose_name_plural = _("pressure policies")
        constraints = [models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True),
                                               name="pressure_policy_one_active")]  # fmt: skip

    def __str__(self) -> str:
        return self.name
