"""Segments: a rule tree (or a frozen list) of customers, its materialised members and their history.

``SegmentMember`` and ``SegmentMembershipChange`` are customer-keyed (DESIGN.md section 4): the
member table's primary key is ``(segment_id, customer_id)`` and the log carries ``customer_id``, so
both can be distributed by customer. ``Segment`` and ``SegmentSizeSnapshot`` are small tables.
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


def empty_rules() -> dict:
    return {"all": []}


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    fields=["name", "description", "kind", "rules", "is_archived", "owner"],
    model_name="SegmentEvent",
)
class Segment(models.Model):
    """A named set of customers: dynamic (rules re-evaluated on refresh) or static (a frozen list)."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic")
        STATIC = "static", _("Static")

    class Source(models.TextChoices):
        RULES = "rules", _("Rules")
        UPLOAD = "upload", _("Uploaded list")
        SAVED_FILTER = "saved_filter", _("Saved customer filter")

    class RefreshStatus(models.TextChoices):
        IDLE = "idle", _("Up to date")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Refreshing")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    source = models.CharField(_("built from"), max_length=12, choices=Source.choices, default=Source.RULES)
    rules = models.JSONField(_("rules"), default=empty_rules, blank=True)
    source_detail = models.JSONField(_("how the list was built"), default=dict, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    last_refreshed_at = models.DateTimeField(_("last refresh"), null=True, blank=True)
    last_refresh_ms = models.PositiveIntegerField(_("last refresh duration (ms)"), null=True, blank=True)
    refresh_status = models.CharField(_("refresh"), max_length=8, choices=RefreshStatus.choices,
                                      default=RefreshStatus.IDLE)  # fmt: skip
    refresh_error = models.TextField(_("refresh error"), blank=True)
    is_archived = models.BooleanField(_("archived"), default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="segments", verbose_name=_("owner"))  # fmt: skip
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]
        permissions = [("refresh_segment", _("Can refresh a segment's members"))]
        indexes = [
            models.Index(fields=["kind", "last_refreshed_at"], name="segment_refresh_due",
                         condition=models.Q(is_archived=False)),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:segment_detail", kwargs={"pk": self.pk})

    @property
    def is_dynamic(self) -> bool:
        return self.kind == self.Kind.DYNAMIC


class SegmentMember(models.Model):
    """A customer in a segment, as of the segment's last refresh (or since the static list was built)."""

    pk = models.CompositePrimaryKey("segment", "customer")
    # The primary key's first column serves every lookup by segment: no second index on it.
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="segment_memberships")
    added_at = models.DateTimeField(_("member since"), default=timezone.now)

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.customer_id}"


class SegmentMembershipChange(models.Model):
    """Who entered or left a segment, and when (written set-based by each refresh)."""

    class Change(models.TextChoices):
        ENTERED = "entered", _("Entered")
        LEFT = "left", _("Left")

    id = models.BigAutoField(primary_key=True)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="membership_changes",
                                db_index=False)  # fmt: skip
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    change = models.CharField(_("change"), max_length=8, choices=Change.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("segment membership change")
        verbose_name_plural = _("segment membership changes")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["segment", "-occurred_at"], name="segment_change_segment"),
            models.Index(fields=["customer", "-occurred_at"], name="segment_change_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.change} {self.segment_id}"


class SegmentSizeSnapshot(models.Model):
    """The segment's size after one refresh: the trend line of the segment list."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="size_history", db_index=False)
    measured_at = models.DateTimeField(_("measured"), default=timezone.now)
    size = models.PositiveIntegerField(_("size"))
    entered = models.PositiveIntegerField(_("entered"), default=0)
    left = models.PositiveIntegerField(_("left"), default=0)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("segment size")
        verbose_name_plural = _("segment sizes")
        ordering = ["-measured_at"]
        indexes = [models.Index(fields=["segment", "-measured_at"], name="segment_size_history")]

    def __str__(self) -> str:
        return f"{self.segment_id}: {self.size} at {self.measured_at:%Y-%m-%d %H:%M}"
