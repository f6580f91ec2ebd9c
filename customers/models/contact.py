"""How to reach a customer: contact points, postal addresses, and the consent ledger."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.choices import Channel, ConsentSource, ConsentStatus, ContactKind, Purpose
from customers.models.customer import Customer, history_insert_event


@pghistory.track(
    history_insert_event(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    fields=["customer", "kind", "value", "label", "is_primary", "is_verified", "is_undeliverable"],
    model_name="ContactPointEvent",
)
class ContactPoint(models.Model):
    """An email address, phone, mobile or social handle; ``value`` is the normalised form looked up."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contact_points")
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    value = models.CharField(_("normalised value"), max_length=254)
    raw_value = models.CharField(_("as entered"), max_length=254, blank=True)
    label = models.CharField(_("label"), max_length=30, blank=True, help_text=_("e.g. home, work"))
    social_network = models.CharField(_("social network"), max_length=30, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    is_verified = models.BooleanField(_("verified"), default=False)
    is_undeliverable = models.BooleanField(_("undeliverable"), default=False)
    undeliverable_reason = models.CharField(_("undeliverable because"), max_length=200, blank=True)
    undeliverable_at = models.DateTimeField(_("undeliverable since"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        ordering = ["-is_primary", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "value"], name="contact_point_unique_per_customer"),
            models.UniqueConstraint(
                fields=["customer", "kind"], condition=Q(is_primary=True), name="contact_point_one_primary_per_kind"
            ),  # fmt: skip
            models.UniqueConstraint(fields=["customer", "id"], name="contact_point_customer_id"),
        ]
        indexes = [
            # varchar_pattern_ops serves both exact lookups (=) and prefix searches (LIKE 'abc%'): one
            # index instead of two keeps bulk imports cheaper.
            models.Index(fields=["value"], name="contact_point_value_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def display_value(self) -> str:
        if self.kind in (ContactKind.PHONE, ContactKind.MOBILE):
            from customers.normalise import phone_display

            return phone_display(self.value)
        return self.value


@pghistory.track(
    history_insert_event(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    fields=["customer", "line1", "line2", "line3", "line4", "line5", "line6", "postcode", "city", "country",
            "is_primary", "is_undeliverable"],
    model_name="PostalAddressEvent",
)  # fmt: skip
class PostalAddress(models.Model):
    """A postal address as the six lines of AFNOR NF Z10-011 (38 characters at most each).

    Line 1: recipient; 2: apartment, floor; 3: building; 4: number and street; 5: locality or
    PO box; 6: postcode and city (in capitals for France). ``postcode``, ``city`` and ``country`` are
    kept apart for search and validation.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="addresses")
    line1 = models.CharField(_("line 1 (recipient)"), max_length=38, blank=True)
    line2 = models.CharField(_("line 2 (apartment, floor)"), max_length=38, blank=True)
    line3 = models.CharField(_("line 3 (building)"), max_length=38, blank=True)
    line4 = models.CharField(_("line 4 (number and street)"), max_length=38, blank=True)
    line5 = models.CharField(_("line 5 (locality, PO box)"), max_length=38, blank=True)
    line6 = models.CharField(_("line 6 (postcode and city)"), max_length=38)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="FR", help_text=_("ISO 3166 code, e.g. FR"))
    is_primary = models.BooleanField(_("primary"), default=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_undeliverable = models.BooleanField(_("undeliverable"), default=False)
    undeliverable_at = models.DateTimeField(_("undeliverable since"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("postal address")
        verbose_name_plural = _("postal addresses")
        ordering = ["-is_primary", "-valid_from", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="address_one_primary"
            ),  # fmt: skip
            models.UniqueConstraint(fields=["customer", "id"], name="address_customer_id"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="address_valid_range",
            ),  # fmt: skip
        ]
        indexes = [
            models.Index(fields=["postcode"], name="address_postcode"),
            models.Index(fields=["customer"], name="address_customer"),
        ]

    def __str__(self) -> str:
        return ", ".join(self.lines)

    @property
    def lines(self) -> list[str]:
        return [line for line in (self.line1, self.line2, self.line3, self.line4, self.line5, self.line6) if line]


class ConsentQuerySet(models.QuerySet):
    def latest_per_channel_and_purpose(self):
        """The effective entries: the latest per (customer, channel, purpose), in one query."""
        return self.order_by("customer_id", "channel", "purpose", "-occurred_at", "-id").distinct(
            "customer_id", "channel", "purpose"
        )


class Consent(models.Model):
    """One entry of the append-only consent ledger. The effective state is the latest entry.

    PostgreSQL refuses UPDATE and DELETE on this table (a trigger, migration 0002), except the two
    maintenance operations that must touch it: a merge re-points rows to the survivor, an erasure
    blanks the proof's personal data. Both declare themselves with ``SET LOCAL relais.consent_maintenance``.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="consents")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=20, choices=ConsentSource.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    proof_text = models.TextField(_("text shown"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("recorded by"))  # fmt: skip
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "channel", "purpose", "-occurred_at", "-id"], name="consent_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}/{self.purpose}: {self.status}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("The consent ledger is append-only: record a new entry instead of editing one.")
        super().save(*args, **kwargs)
