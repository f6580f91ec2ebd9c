"""Telephony: agents' extensions and availability, and one row per call followed from ringing to end."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.choices import CallState, Direction
from customers.models import Customer


class AgentProfile(models.Model):
    """What the console needs about an agent: the phone extension the telephony system reports, the store."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    extension = models.CharField(_("phone extension"), max_length=20, blank=True)
    store = models.CharField(_("store / agency"), max_length=100, blank=True)
    is_available = models.BooleanField(_("available"), default=True)

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")
        constraints = [
            models.UniqueConstraint(fields=["extension"], condition=~Q(extension=""), name="agent_extension_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.extension or '-'})"


class CallSession(models.Model):
    """A call followed through its events (ringing, answered, ended); becomes an interaction at the end."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="call_sessions")  # fmt: skip
    call_id = models.CharField(_("call id"), max_length=100)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices,
                                 default=Direction.INBOUND)  # fmt: skip
    caller_number = models.CharField(_("caller number"), max_length=40)
    caller_e164 = models.CharField(max_length=20, blank=True)
    called_line = models.CharField(_("called line"), max_length=40, blank=True)
    agent_extension = models.CharField(_("agent extension"), max_length=20, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="call_sessions")  # fmt: skip
    state = models.CharField(_("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING)
    candidates = models.JSONField(default=list, blank=True, help_text=_("Customer ids when ambiguous."))
    rang_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    interaction = models.ForeignKey("channels.Interaction", on_delete=models.SET_NULL, null=True, blank=True,
                                    db_constraint=False, related_name="+")  # fmt: skip

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-rang_at"]
        constraints = [models.UniqueConstraint(fields=["customer", "id"], name="call_session_customer_id")]
        indexes = [
            models.Index(fields=["call_id"], name="call_session_call_id"),
            models.Index(fields=["agent", "-rang_at"], name="call_session_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.caller_number}"
