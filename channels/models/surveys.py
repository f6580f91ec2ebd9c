"""Satisfaction surveys (CSAT 1-5), sent a few days after a case is resolved, answered once."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from channels.choices import InteractionChannel, SurveyStatus
from customers.models import Customer


class SatisfactionSurvey(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="surveys")
    case = models.ForeignKey("channels.Case", on_delete=models.CASCADE, db_constraint=False,
                             related_name="surveys")  # fmt: skip
    channel = models.CharField(_("sent through"), max_length=20, choices=InteractionChannel.choices, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=SurveyStatus.choices,
                              default=SurveyStatus.SCHEDULED)  # fmt: skip
    send_after = models.DateTimeField(_("send after"))
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True,
                                             validators=[MinValueValidator(1), MaxValueValidator(5)])  # fmt: skip
    comment = models.TextField(_("comment"), blank=True)
    nonce = models.CharField(max_length=32, editable=False, help_text=_("Part of the signed link."))
    skipped_reason = models.CharField(max_length=200, blank=True)
    interaction = models.ForeignKey("channels.Interaction", on_delete=models.SET_NULL, null=True, blank=True,
                                    db_constraint=False, related_name="+")  # fmt: skip

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-send_after"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "id"], name="survey_customer_id"),
            models.UniqueConstraint(fields=["customer", "case"], name="survey_one_per_case"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5), name="survey_score_1_to_5"
            ),  # fmt: skip
        ]
        indexes = [
            models.Index(fields=["send_after"], name="survey_due", condition=Q(status="scheduled")),
        ]

    def __str__(self) -> str:
        return f"Survey {self.pk} ({self.get_status_display()})"
