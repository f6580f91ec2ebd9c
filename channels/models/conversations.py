"""Threads: an email exchange, a chat (with its messages), an SMS thread; and call-back requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.choices import CallbackStatus, ChatAuthor, ConversationKind, ConversationStatus
from customers.models import Customer


class Conversation(models.Model):
    """Threads the interactions of one email exchange, chat or SMS exchange.

    ``visitor_id`` is the web visitor (anonymous until stitched) for chats; ``token`` is the secret the
    visitor's browser holds to read and post in its chat (stored hashed).
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="conversations", verbose_name=_("customer"))  # fmt: skip
    kind = models.CharField(_("kind"), max_length=10, choices=ConversationKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConversationStatus.choices,
                              default=ConversationStatus.OPEN)  # fmt: skip
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    case = models.ForeignKey("channels.Case", on_delete=models.SET_NULL, null=True, blank=True,
                             db_constraint=False, related_name="conversations", verbose_name=_("case"))  # fmt: skip
    queue = models.ForeignKey("channels.Queue", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="conversations")  # fmt: skip
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="conversations")  # fmt: skip
    site = models.ForeignKey("channels.Site", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    visitor_id = models.CharField(_("web visitor"), max_length=64, blank=True)
    visitor_name = models.CharField(_("visitor name"), max_length=120, blank=True)
    visitor_email = models.CharField(_("visitor email"), max_length=254, blank=True)
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "id"], name="conversation_customer_id"),
            # One open SMS thread per customer (and per unknown number): two texts arriving at once
            # cannot both open one, since a SELECT ... FOR UPDATE on a thread not there yet locks nothing.
            models.UniqueConstraint(
                fields=["customer"],
                name="conversation_one_open_sms",
                condition=Q(kind="sms", customer__isnull=False) & ~Q(status="closed"),
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["visitor_id"],
                name="conversation_one_open_sms_number",
                condition=Q(kind="sms", customer__isnull=True) & ~Q(status="closed"),
            ),  # fmt: skip
        ]
        indexes = [
            models.Index(fields=["customer", "-last_message_at"], name="conversation_customer"),
            models.Index(
                fields=["kind", "status", "created_at"], name="conversation_waiting", condition=~Q(status="closed")
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_kind_display()} #{self.pk}"


class ChatMessage(models.Model):
    """One line of a chat; ``pushed_url`` set when the agent pushed a page to the visitor."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, db_constraint=False,
                                     related_name="chat_messages")  # fmt: skip
    author = models.CharField(_("author"), max_length=10, choices=ChatAuthor.choices)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")  # fmt: skip
    body = models.TextField(_("message"), blank=True)
    pushed_url = models.URLField(_("pushed page"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["customer", "id"], name="chat_message_customer_id")]
        indexes = [models.Index(fields=["conversation", "id"], name="chat_message_conversation")]

    def __str__(self) -> str:
        return f"{self.get_author_display()}: {self.body[:40]}"


class CallbackRequest(models.Model):
    """ "Call me back": from the web widget, the portal or an agent; worked from the queue."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="callback_requests", verbose_name=_("customer"))  # fmt: skip
    phone = models.CharField(_("phone"), max_length=32, help_text=_("E.164"))
    name = models.CharField(_("name"), max_length=120, blank=True)
    reason = models.CharField(_("reason"), max_length=255)
    preferred_from = models.DateTimeField(_("preferred from"))
    preferred_to = models.DateTimeField(_("preferred until"))
    status = models.CharField(_("status"), max_length=12, choices=CallbackStatus.choices,
                              default=CallbackStatus.REQUESTED)  # fmt: skip
    queue = models.ForeignKey("channels.Queue", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="callback_requests")  # fmt: skip
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="callback_requests")  # fmt: skip
    site = models.ForeignKey("channels.Site", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    visitor_id = models.CharField(max_length=64, blank=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True,
                                     db_constraint=False, related_name="callback_requests")  # fmt: skip
    interaction = models.ForeignKey("channels.Interaction", on_delete=models.SET_NULL, null=True, blank=True,
                                    db_constraint=False, related_name="+")  # fmt: skip
    outcome = models.CharField(_("outcome"), max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("call-back request")
        verbose_name_plural = _("call-back requests")
        ordering = ["preferred_from"]
        constraints = [models.UniqueConstraint(fields=["customer", "id"], name="callback_customer_id")]
        indexes = [
            models.Index(
                fields=["status", "preferred_from"],
                name="callback_open",
                condition=Q(status__in=["requested", "assigned"]),
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.reason}"
