"""Admin-edited configuration: channel costs, web sites (site keys), mailboxes, response templates."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from channels.choices import InteractionChannel, TemplateChannel

# What one contact costs the company, per channel (EUR); the admin can change them.
DEFAULT_COSTS = {
    InteractionChannel.PHONE: Decimal("6.00"),
    InteractionChannel.FACE_TO_FACE: Decimal("12.00"),
    InteractionChannel.POSTAL_MAIL: Decimal("1.20"),
    InteractionChannel.EMAIL: Decimal("0.02"),
    InteractionChannel.SMS: Decimal("0.06"),
    InteractionChannel.WEB: Decimal("0.25"),
    InteractionChannel.CHAT: Decimal("2.50"),
    InteractionChannel.SOCIAL: Decimal("2.50"),  # answered by an agent in writing, like a chat
}


class ChannelCost(models.Model):
    """The cost applied to every interaction of a channel (copied onto the interaction when recorded)."""

    channel = models.CharField(_("channel"), max_length=20, choices=InteractionChannel.choices, unique=True)
    amount = models.DecimalField(_("cost per contact"), max_digits=8, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("channel cost")
        verbose_name_plural = _("channel costs")
        ordering = ["channel"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.amount} {self.currency}"


class Site(models.Model):
    """A web site that sends events and embeds the chat / call-back widget, identified by a site key."""

    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("site key"), max_length=64, unique=True,
                           help_text=_("Public key embedded in the site's pages (not a secret)."))  # fmt: skip
    allowed_origins = models.TextField(_("allowed origins"), blank=True,
                                       help_text=_("One origin per line, e.g. https://shop.example.com"))  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("web site")
        verbose_name_plural = _("web sites")

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]


class Mailbox(models.Model):
    """An IMAP mailbox read by the beat job; its messages land in ``queue``."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"), unique=True)
    imap_host = models.CharField(_("IMAP host"), max_length=200)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    use_ssl = models.BooleanField(_("SSL/TLS"), default=True)
    username = models.CharField(_("user name"), max_length=200)
    password = models.CharField(_("password"), max_length=200)
    folder = models.CharField(_("folder"), max_length=100, default="INBOX")
    queue = models.ForeignKey("channels.Queue", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="mailboxes", verbose_name=_("queue"))  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    uid_validity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class ResponseTemplate(models.Model):
    """A reply template for agents (email, SMS) or a letter template, per language.

    ``body`` uses Django template syntax with ``customer``, ``agent`` and ``case`` in its context.
    """

    channel = models.CharField(_("channel"), max_length=10, choices=TemplateChannel.choices)
    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8, default="fr")
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        ordering = ["channel", "name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "name", "language"], name="response_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    def clean(self) -> None:
        """Refuse what the sandboxed engine would not render (``channels.template_sandbox``): the
        admin's form shows each problem under its field."""
        from django.core.exceptions import ValidationError

        from channels.template_sandbox import template_problems

        errors = {
            name: problems for name in ("subject", "body") if (problems := template_problems(getattr(self, name)))
        }
        if errors:
            raise ValidationError(errors)
