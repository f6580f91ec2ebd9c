"""Work on the record itself: duplicate candidates, imports and their per-row reports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models.customer import Customer


class DuplicatePair(models.Model):
    """Two customers the duplicate finder thinks are one person, with its score and reasons.

    ``customer_low`` has the smaller id, so a pair is stored once; a dismissed pair stays dismissed.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("To review")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not a duplicate")

    customer_low = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_high = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=3)
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    found_at = models.DateTimeField(_("found"), default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")  # fmt: skip
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer_low", "customer_high"], name="duplicate_pair_unique"),
            models.CheckConstraint(condition=Q(customer_low__lt=F("customer_high")), name="duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="duplicate_pair_status_score")]

    def __str__(self) -> str:
        return f"{self.customer_low_id} ~ {self.customer_high_id} ({self.score})"


class ImportMapping(models.Model):
    """Which file column feeds which field, saved per source so the next file maps itself."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        ORDERS = "orders", _("Orders")
        CONTRACTS = "contracts", _("Contracts")

    source = models.CharField(_("source"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    columns = models.JSONField(_("column mapping"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        constraints = [models.UniqueConstraint(fields=["source", "kind"], name="import_mapping_unique")]

    def __str__(self) -> str:
        return f"{self.source} ({self.kind})"


class ImportJob(models.Model):
    """One uploaded file going through dry run and import; a row claimed by a Celery worker."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=ImportMapping.Kind.choices)
    source = models.CharField(_("source"), max_length=50)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    columns = models.JSONField(_("column mapping"), default=dict)
    is_dry_run = models.BooleanField(_("dry run"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    created_rows = models.PositiveIntegerField(_("created"), default=0)
    updated_rows = models.PositiveIntegerField(_("updated"), default=0)
    error_rows = models.PositiveIntegerField(_("rejected"), default=0)
    unchanged_rows = models.PositiveIntegerField(_("unchanged"), default=0)
    flagged_rows = models.PositiveIntegerField(_("possible duplicates"), default=0)
    duplicate_rows = models.PositiveIntegerField(_("duplicates in the file"), default=0)
    warning_rows = models.PositiveIntegerField(_("rows with warnings"), default=0)
    failure = models.TextField(_("failure"), blank=True)
    # The report is written in the language of the person who queued the job, whatever the worker's.
    language = models.CharField(_("language"), max_length=8, blank=True)
    # A running job is leased: a worker that dies lets the lease expire and the sweeper queues the job again.
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class ImportRowError(models.Model):
    """What the report says of one row: rejected, imported with a warning, a duplicate, or flagged.

    Row number, the file's column that caused it, the value and the reason in the reader's language.
    """

    class Level(models.TextChoices):
        REJECTED = "rejected", _("Rejected")
        WARNING = "warning", _("Imported with a warning")
        DUPLICATE = "duplicate", _("Duplicate in the file")
        FLAGGED = "flagged", _("Possible duplicate to review")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(_("row"))
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.REJECTED)
    column = models.CharField(_("column"), max_length=100, blank=True)
    value = models.TextField(_("value"), blank=True)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("import row error")
        verbose_name_plural = _("import row errors")
        ordering = ["row_number", "id"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.reason}"
