"""The back office, synced from other systems by API or import: products, orders, contracts, invoices.

Large tables carry ``customer_id``; their unique constraints include it, and the foreign keys between
them are composite ``(customer_id, id)`` in PostgreSQL (migration 0003), so the schema can be
distributed by customer (DESIGN.md sections 4 and 8). Django's own foreign keys on them are
``db_constraint=False`` for that reason.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models.customer import Customer


def _currency_field():
    return models.CharField(_("currency"), max_length=3, default=settings.DEFAULT_CURRENCY)


class Product(models.Model):
    """A product or service sold (a reference table: small, shared by every customer)."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = _currency_field()
    is_active = models.BooleanField(_("active"), default=True)
    source = models.CharField(_("source system"), max_length=50, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(external_id=""), name="product_unique_external_id"
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", _("Placed")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        RETURNED = "returned", _("Returned")
        CANCELLED = "cancelled", _("Cancelled")

    class SalesChannel(models.TextChoices):
        WEB = "web", _("Web shop")
        STORE = "store", _("Store")
        AGENCY = "agency", _("Agency")
        PHONE = "phone", _("Phone")
        MOBILE_APP = "mobile_app", _("Mobile app")
        MARKETPLACE = "marketplace", _("Marketplace")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(_("order number"), max_length=40)
    source = models.CharField(_("source system"), max_length=50, default="relais")
    external_id = models.CharField(_("external id"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLACED)
    sales_channel = models.CharField(_("sales channel"), max_length=12, choices=SalesChannel.choices,
                                     default=SalesChannel.WEB)  # fmt: skip
    store = models.CharField(_("store or agency"), max_length=100, blank=True)
    total_amount = models.DecimalField(_("total"), max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = _currency_field()
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "source", "external_id"], name="order_unique_external_id"),
            models.UniqueConstraint(fields=["customer", "id"], name="order_customer_id"),
        ]
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_customer_placed"),
            models.Index(fields=["number"], name="order_number"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_constraint=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    label = models.CharField(_("label"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2, default=Decimal("0"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        indexes = [models.Index(fields=["customer", "order"], name="order_line_order")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.label}"


class Contract(models.Model):
    """A subscription or service contract."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        ENDED = "ended", _("Ended")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(_("contract number"), max_length=40)
    source = models.CharField(_("source system"), max_length=50, default="relais")
    external_id = models.CharField(_("external id"), max_length=100)
    plan = models.CharField(_("plan"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    monthly_amount = models.DecimalField(_("monthly amount"), max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = _currency_field()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "source", "external_id"], name="contract_unique_external_id"
            ),  # fmt: skip
            models.UniqueConstraint(fields=["customer", "id"], name="contract_customer_id"),
        ]
        indexes = [models.Index(fields=["customer", "-start_date"], name="contract_customer_start")]

    def __str__(self) -> str:
        return f"{self.number} · {self.plan}"


class Invoice(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("invoice status", "Open")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices",
                              db_constraint=False)  # fmt: skip
    contract = models.ForeignKey(Contract, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="invoices", db_constraint=False)  # fmt: skip
    number = models.CharField(_("invoice number"), max_length=40)
    source = models.CharField(_("source system"), max_length=50, default="relais")
    external_id = models.CharField(_("external id"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = _currency_field()
    issued_on = models.DateField(_("issued"))
    due_on = models.DateField(_("due"))
    paid_on = models.DateField(_("paid"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "source", "external_id"], name="invoice_unique_external_id"
            ),  # fmt: skip
            models.UniqueConstraint(fields=["customer", "id"], name="invoice_customer_id"),
        ]
        indexes = [models.Index(fields=["customer", "-issued_on"], name="invoice_customer_issued")]

    def __str__(self) -> str:
        return self.number
