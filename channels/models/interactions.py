"""The timeline: one ``Interaction`` per contact, whatever the channel, and its attachments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.choices import Direction, InteractionChannel, InteractionKind
from customers.models import Customer


class Interaction(models.Model):
    """One contact with a customer (or a not yet identified person) on one channel.

    Written only through ``channels.services.interactions.interaction_record``. ``body`` is HTML
    sanitised with nh3 on the way in; ``summary`` is plain text. ``external_id`` is the channel's own
    identifier (call id, Message-ID, SMS provider id, web session id) used for threading and idempotency.
    Higher apps (campaign messages, leads) point *down* to interactions; this table holds no key to them.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="interactions", verbose_name=_("customer"))  # fmt: skip
    channel = models.CharField(_("channel"), max_length=20, choices=InteractionChannel.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="interactions", verbose_name=_("agent"))  # fmt: skip
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    body = models.TextField(_("body"), blank=True, help_text=_("Sanitised HTML."))
    outcome = models.CharField(_("outcome"), max_length=100, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=8, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    case = models.ForeignKey("channels.Case", on_delete=models.SET_NULL, null=True, blank=True,
                             db_constraint=False, related_name="interactions", verbose_name=_("case"))  # fmt: skip
    conversation = models.ForeignKey("channels.Conversation", on_delete=models.SET_NULL, null=True, blank=True,
                                     db_constraint=False, related_name="interactions",
                                     verbose_name=_("conversation"))  # fmt: skip
    external_id = models.CharField(_("channel reference"), max_length=255, blank=True)
    metadata = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "id"], name="interaction_customer_id"),
        ]
        indexes = [
            # The 360 timeline: an index range scan, newest first, optionally per channel.
            models.Index(fields=["customer", "-occurred_at", "-id"], name="interaction_timeline"),
            models.Index(fields=["customer", "channel", "-occurred_at"], name="interaction_timeline_channel"),
            models.Index(fields=["case", "occurred_at"], name="interaction_case", condition=Q(case__isnull=False)),
            models.Index(
                fields=["conversation", "occurred_at"],
                name="interaction_conversation",
                condition=Q(conversation__isnull=False),
            ),  # fmt: skip
            models.Index(
                fields=["channel", "external_id"], name="interaction_external_id", condition=~Q(external_id="")
            ),  # fmt: skip
            models.Index(
                fields=["agent", "-occurred_at"], name="interaction_agent", condition=Q(agent__isnull=False)
            ),  # fmt: skip
        ]
        permissions = [
            ("use_console", _("Use the agent console (screen pops, chats, call-backs)")),
            ("reply_customer", _("Send emails and SMS to customers")),
            ("ingest_email", _("Post inbound email through the API")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file received with (or sent in) an interaction: size-limited and type-checked on the way in."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="attachments")  # fmt: skip
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, db_constraint=False,
                                    related_name="attachments")  # fmt: skip
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=attachment_path, max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [models.UniqueConstraint(fields=["customer", "id"], name="attachment_customer_id")]

    def __str__(self) -> str:
        return self.filename
