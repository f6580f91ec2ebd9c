"""The customer: identity, life-cycle stage, owner, tags and typed custom attributes."""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from customers.choices import CustomerKind, PreferredChannel, RecordSource, Stage, Title


class NextAccountNumber(Func):
    """``C-0012345`` from a PostgreSQL sequence: unique, human, and the same for COPY-loaded rows."""

    template = "'C-' || lpad(nextval('customers_account_number_seq')::text, 7, '0')"
    output_field = models.CharField()

    def __init__(self):
        super().__init__()


class CustomerQuerySet(models.QuerySet):
    def live(self):
        """Customers that are neither merged away nor anonymised."""
        return self.filter(merged_into__isnull=True, anonymised_at__isnull=True)


# The bulk import writes its history rows itself, set-based, in the statements that insert the rows
# (customers/services/imports/bulk.py), and sets this for its transaction. The insert history triggers
# test it in their WHEN condition, so they are skipped without entering PL/pgSQL (pgtrigger.ignore()
# would still call a function per row: 5 s of a 100,000-row import).
HISTORY_WRITTEN_SETTING = "relais.history_written"


def history_insert_event() -> pghistory.InsertEvent:
    """An insert history event, skipped when the transaction writes its history itself."""
    return pghistory.InsertEvent(
        condition=pgtrigger.Condition(f"current_setting('{HISTORY_WRITTEN_SETTING}', true) IS DISTINCT FROM 'on'")
    )


@pghistory.track(
    history_insert_event(),
    pghistory.UpdateEvent(),
    fields=["kind", "title", "given_name", "family_name", "company_name", "birth_date", "language", "stage",
            "owner", "preferred_channel", "tags", "attributes", "notes", "merged_into", "anonymised_at"],
    model_name="CustomerEvent",
)  # fmt: skip
class Customer(models.Model):
    """One person or company, the same on every channel (DESIGN.md section 4)."""

    account_number = models.CharField(_("account number"), max_length=16, unique=True, db_default=NextAccountNumber(),
                                      editable=False)  # fmt: skip
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    title = models.CharField(_("title"), max_length=4, choices=Title.choices, blank=True, default="")
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, default="fr", choices=settings.LANGUAGES)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.PROSPECT)
    stage_entered_at = models.DateTimeField(_("stage entered"), default=timezone.now)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="owned_customers", verbose_name=_("owner"))  # fmt: skip
    preferred_channel = models.CharField(_("preferred channel"), max_length=20, choices=PreferredChannel.choices,
                                         blank=True, default="")  # fmt: skip
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("tags"), default=list, blank=True)
    attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_via = models.CharField(_("created through"), max_length=10, choices=RecordSource.choices,
                                   default=RecordSource.AGENT)  # fmt: skip
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("merged into"))  # fmt: skip
    merged_at = models.DateTimeField(_("merged"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)
    retention_flagged_at = models.DateTimeField(_("flagged for retention"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Accent-folded "given family company", maintained by PostgreSQL itself (also for COPY loads).
    search_name = models.GeneratedField(
        expression=Func(F("given_name"), F("family_name"), F("company_name"), function="relais_search_name"),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("merge_customer", _("Can merge duplicate customers")),
            ("erase_customer", _("Can erase (anonymise) a customer's personal data")),
            ("export_customer", _("Can export a customer's personal data")),
            ("import_customer", _("Can import customers, orders and contracts")),
            ("record_consent", _("Can record a consent on a customer's behalf")),
        ]
        indexes = [
            GinIndex(fields=["search_name"], opclasses=["gin_trgm_ops"], name="customer_search_name_trgm"),
            # The whole name typed in the header search ("jean martin"): an equality the trigram index
            # answers only by reading every "martin".
            models.Index(fields=["search_name"], name="customer_search_name_exact"),
            GinIndex(fields=["tags"], name="customer_tags_gin"),
            GinIndex(fields=["attributes"], opclasses=["jsonb_path_ops"], name="customer_attributes_gin"),
            models.Index(fields=["stage", "-created_at"], name="customer_stage_created"),
            models.Index(fields=["owner", "-created_at"], name="customer_owner_created"),
            models.Index(fields=["-created_at", "-id"], name="customer_created_desc"),
            models.Index(
                fields=["last_contact_at"],
                name="customer_last_contact",
                condition=Q(stage="prospect", anonymised_at__isnull=True),
            ),  # fmt: skip
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(merged_into=F("pk")), name="customer_not_merged_into_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.account_number})"

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", kwargs={"pk": self.pk})

    @property
    def display_name(self) -> str:
        if self.anonymised_at:
            return str(_("Anonymised customer"))
        person = " ".join(part for part in (self.given_name, self.family_name) if part)
        if self.kind == CustomerKind.COMPANY:
            return self.company_name or person or self.account_number
        return person or self.company_name or self.account_number

    @property
    def is_live(self) -> bool:
        return self.merged_into_id is None and self.anonymised_at is None


class CustomerExternalId(models.Model):
    """The customer's id in another system (ERP, e-shop, billing): what upserts and imports match on.

    The one table keyed by (source, value) rather than customer: it answers "who is ERP-1234?".
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_ids")
    source = models.CharField(_("source system"), max_length=50)
    value = models.CharField(_("external id"), max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("external id")
        verbose_name_plural = _("external ids")
        constraints = [models.UniqueConstraint(fields=["source", "value"], name="external_id_unique_per_source")]
        indexes = [models.Index(fields=["customer", "source"], name="external_id_customer")]

    def __str__(self) -> str:
        return f"{self.source}:{self.value}"


class StageChange(models.Model):
    """When a customer entered a life-cycle stage (append-only history of ``Customer.stage``)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="stage_changes")
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    previous_stage = models.CharField(_("previous stage"), max_length=12, choices=Stage.choices, blank=True)
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)
    acting_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")  # fmt: skip
    source = models.CharField(max_length=10, choices=RecordSource.choices, default=RecordSource.AGENT)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [models.Index(fields=["customer", "-entered_at"], name="stage_change_customer")]
        ordering = ["-entered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.stage} at {self.entered_at:%Y-%m-%d}"


class AttributeDefinition(models.Model):
    """A custom attribute marketers can filter on and forms can edit, stored in ``Customer.attributes``."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes / no")
        CHOICE = "choice", _("Choice")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    # One label per language of settings.LANGUAGES; ``label`` is the English one and the fallback.
    label = models.CharField(_("label (English)"), max_length=100)
    label_fr = models.CharField(
        _("label (French)"), max_length=100, blank=True, help_text=_("Shown on French pages; else the English one.")
    )
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.TEXT)
    choices = ArrayField(models.CharField(max_length=100), verbose_name=_("choices"), default=list, blank=True)
    is_required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("custom attribute")
        verbose_name_plural = _("custom attributes")
        ordering = ["order", "label"]

    def __str__(self) -> str:
        return self.display_label

    def label_for(self, language: str | None) -> str:
        """The label in ``language`` (``fr``, ``fr-fr``...), the English one when it has none."""
        if (language or "").lower().startswith("fr") and self.label_fr:
            return self.label_fr
        return self.label

    @property
    def display_label(self) -> str:
        """The label in the active language (the page's, the export's)."""
        return self.label_for(get_language())


class SavedFilter(models.Model):
    """A named customer-list filter (its query string), private or shared with the team."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("filter"), max_length=2000)
    is_shared = models.BooleanField(_("shared with the team"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_filter_unique_name")]

    def __str__(self) -> str:
        return self.name
