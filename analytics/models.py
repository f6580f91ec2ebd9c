"""Customer value scores (latest row and monthly history), model fits, product similarities, next
best offers and the log of offers shown.

Large tables are keyed by customer (DESIGN.md section 4): ``customer_id`` leads their unique
constraints and indexes. Rows are written in bulk by ``analytics.services`` (INSERT ... SELECT,
COPY), never one by one through the ORM.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Product


class RfmCell(models.TextChoices):
    """The RFM grid's cells (recency score x the mean of the frequency and monetary scores)."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal customers")
    POTENTIAL_LOYALISTS = "potential_loyalists", _("Potential loyalists")
    NEW = "new", _("New customers")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANNOT_LOSE = "cannot_lose", _("Cannot lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    NO_PURCHASE = "no_purchase", _("No purchase yet")


class Band(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ScoreRun(models.Model):
    """One nightly computation: when, how many customers, and the fitted model parameters."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    as_of = models.DateField(_("scores as of"))
    customers = models.PositiveIntegerField(default=0)
    buyers = models.PositiveIntegerField(default=0)
    bgnbd = models.JSONField(_("BG/NBD parameters"), default=dict, blank=True)
    gamma_gamma = models.JSONField(_("Gamma-Gamma parameters"), default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("score run")
        verbose_name_plural = _("score runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} ({self.status})"


class ScoreFields(models.Model):
    """The columns shared by the latest score and its monthly snapshot."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    computed_at = models.DateTimeField(_("computed"))
    recency_days = models.PositiveIntegerField(_("days since the last order"), null=True, blank=True)
    frequency = models.PositiveIntegerField(_("orders"), default=0)
    monetary = models.DecimalField(_("total spent"), max_digits=14, decimal_places=2, default=0)
    r_score = models.PositiveSmallIntegerField(_("recency score"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("frequency score"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("monetary score"), null=True, blank=True)
    rfm_cell = models.CharField(_("RFM cell"), max_length=20, choices=RfmCell.choices, default=RfmCell.NO_PURCHASE)
    expected_purchases_90 = models.FloatField(_("expected purchases, 90 days"), null=True, blank=True)
    expected_purchases_365 = models.FloatField(_("expected purchases, 365 days"), null=True, blank=True)
    p_alive = models.FloatField(_("probability still active"), null=True, blank=True)
    expected_order_value = models.DecimalField(_("expected order value"), max_digits=12, decimal_places=2,
                                               null=True, blank=True)  # fmt: skip
    clv_12m = models.DecimalField(_("12-month value (discounted)"), max_digits=14, decimal_places=2,
                                  null=True, blank=True)  # fmt: skip
    value_band = models.CharField(_("value band"), max_length=6, choices=Band.choices, blank=True)
    churn_risk = models.FloatField(_("churn risk"), null=True, blank=True)
    churn_band = models.CharField(_("churn risk band"), max_length=6, choices=Band.choices, blank=True)
    # {"email": {"sent": 12, "responded": 3, "share": 0.25}, ...} over the last 365 days.
    responsiveness = models.JSONField(_("responsiveness per channel"), default=dict, blank=True)
    preferred_purchase_channel = models.CharField(_("preferred purchase channel"), max_length=12, blank=True)

    class Meta:
        abstract = True


class CustomerScore(ScoreFields):
    """The latest scores of one customer (one row per customer, replaced by each nightly run)."""

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        constraints = [models.UniqueConstraint(fields=["customer"], name="customer_score_one_per_customer")]
        indexes = [
            models.Index(fields=["rfm_cell", "customer"], name="customer_score_cell"),
            models.Index(fields=["churn_band", "customer"], name="customer_score_churn"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.rfm_cell}"


class CustomerScoreMonth(ScoreFields):
    """The scores of one customer as they stood in one month (the last run of the month wins)."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("monthly customer score")
        verbose_name_plural = _("monthly customer scores")
        constraints = [models.UniqueConstraint(fields=["customer", "month"], name="customer_score_month_unique")]
        indexes = [models.Index(fields=["month", "rfm_cell"], name="customer_score_month_cell")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}: {self.rfm_cell}"


class ProductSimilarity(models.Model):
    """Item-to-item co-purchase similarity: how often buyers of ``product`` also bought ``similar``.

    ``score`` is the cosine of the two products' buyer sets, |A and B| / sqrt(|A| |B|); only the top
    ``RECOMMENDATIONS_TOP_N`` per product are kept, ranked 1..N. A reference-sized table (products).
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    similar = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    co_buyers = models.PositiveIntegerField()
    rank = models.PositiveSmallIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("product similarity")
        verbose_name_plural = _("product similarities")
        constraints = [
            models.UniqueConstraint(fields=["product", "similar"], name="product_similarity_unique"),
            models.CheckConstraint(condition=~models.Q(product=models.F("similar")), name="product_similarity_other"),
        ]
        indexes = [models.Index(fields=["product", "rank"], name="product_similarity_rank")]

    def __str__(self) -> str:
        return f"{self.product_id} -> {self.similar_id} ({self.score:.3f})"


class OfferPlacement(models.TextChoices):
    WEB = "web", _("Web site")
    AGENT = "agent", _("Agent (360 page)")
    CAMPAIGN = "campaign", _("Campaign message")
    PORTAL = "portal", _("Self-care portal")


class OfferImpression(models.Model):
    """One offer shown to one customer (the loop: a click on the site closes it, the fatigue rule reads it)."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    placement = models.CharField(max_length=10, choices=OfferPlacement.choices)
    is_exploration = models.BooleanField(default=False)
    score = models.FloatField(default=0)
    shown_at = models.DateTimeField(default=timezone.now)
    clicked_at = models.DateTimeField(null=True, blank=True)
    site_id = models.BigIntegerField(null=True, blank=True)
    visitor_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("offer shown")
        verbose_name_plural = _("offers shown")
        constraints = [models.UniqueConstraint(fields=["customer", "id"], name="offer_impression_customer_id")]
        indexes = [models.Index(fields=["customer", "product", "-shown_at"], name="offer_impression_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.product_id} ({self.placement})"
