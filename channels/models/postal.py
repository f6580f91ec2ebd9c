"""Postal mail: letters (one PDF each, AFNOR address block in the window) and batches for the mail house."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.choices import LetterStatus
from customers.models import Customer, PostalAddress


class LetterBatch(models.Model):
    """A batch of letters for the mail house. Written by a Celery task (``letter_batch_run_task``): the
    row is the work to do (status, who it is for in ``selection``) and its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Writing the letters")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=200)
    template = models.ForeignKey("channels.ResponseTemplate", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    letter_count = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True, help_text=_("Customers left out, with the reason."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DONE)
    purpose = models.CharField(_("purpose"), max_length=20, default="service")
    selection = models.JSONField(
        default=dict, blank=True, help_text=_("Who the batch is for: a customer filter's query or account numbers.")
    )
    total = models.PositiveIntegerField(_("customers to write to"), default=0)
    processed = models.PositiveIntegerField(_("customers handled"), default=0)
    failure = models.TextField(_("failure"), blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("letter batch")
        verbose_name_plural = _("letter batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, int(100 * self.processed / self.total)) if self.total else 0


class Letter(models.Model):
    """One letter to one customer; ``address_lines`` is the AFNOR block as printed (a snapshot)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="letters")
    address = models.ForeignKey(PostalAddress, on_delete=models.SET_NULL, null=True, blank=True,
                                db_constraint=False, related_name="+")  # fmt: skip
    address_lines = models.JSONField(default=list)
    template = models.ForeignKey("channels.ResponseTemplate", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")  # fmt: skip
    batch = models.ForeignKey(LetterBatch, on_delete=models.CASCADE, null=True, blank=True, related_name="letters")
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=LetterStatus.choices,
                              default=LetterStatus.RENDERED)  # fmt: skip
    interaction = models.ForeignKey("channels.Interaction", on_delete=models.SET_NULL, null=True, blank=True,
                                    db_constraint=False, related_name="+")  # fmt: skip
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["customer", "id"], name="letter_customer_id")]
        indexes = [models.Index(fields=["customer", "-created_at"], name="letter_customer")]

    def __str__(self) -> str:
        return self.subject or f"Letter #{self.pk}"
