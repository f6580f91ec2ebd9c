"""Input and output serializers of the back-office upserts (customers, products, orders, contracts,
invoices by external id). Input serializers check shape and types only; the upsert services in
``customers.services.backoffice`` decide the rest."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from customers.api.serializers import CustomerUpsertInputSerializer
from customers.models import Contract, Invoice, Order
from customers.services.backoffice import BULK_LIMIT

MONEY = {"max_digits": 12, "decimal_places": 2}


class CustomerReferenceSerializer(serializers.Serializer):
    """Which customer a record belongs to: exactly one of ``id``, ``account_number`` or ``source`` +
    ``external_id``. A customer merged away is followed to its survivor."""

    id = serializers.IntegerField(required=False, min_value=1, help_text=_("The Relais id."))
    account_number = serializers.CharField(required=False, max_length=16, help_text=_("e.g. C-0012345"))
    source = serializers.CharField(required=False, max_length=50, help_text=_("With external_id."))
    external_id = serializers.CharField(required=False, max_length=100, help_text=_("The customer's id in source."))

    def validate(self, attrs: dict) -> dict:
        ways = [bool(attrs.get("id")), bool(attrs.get("account_number")), bool(attrs.get("external_id"))]
        if sum(ways) != 1:
            raise serializers.ValidationError(
                _("Name the customer by exactly one of: id, account_number, or source and external_id."),
                code="invalid",
            )
        if attrs.get("external_id") and not attrs.get("source"):
            raise serializers.ValidationError(
                {"source": [ErrorDetail(str(_("Give the source system of the external id.")), code="required")]}
            )
        return attrs


class _KeyedSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=50, help_text=_("The system the record comes from, e.g. 'erp'."))
    external_id = serializers.CharField(max_length=100, help_text=_("The record's id in that system."))
    customer = CustomerReferenceSerializer()
    number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text=_("The number shown to people; defaults to external_id."),
    )
    currency = serializers.CharField(
        min_length=3,
        max_length=3,
        required=False,
        help_text=_("ISO 4217 code; defaults to %(currency)s.") % {"currency": settings.DEFAULT_CURRENCY},
    )


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text=_("Links the line to the product with this SKU when one exists."),
    )
    label = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text=_("Defaults to the product's name.")
    )
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    unit_price = serializers.DecimalField(**MONEY, required=False, help_text=_("Defaults to the product's price."))
    amount = serializers.DecimalField(**MONEY, required=False, help_text=_("Defaults to quantity × unit price."))


class OrderInputSerializer(_KeyedSerializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    sales_channel = serializers.ChoiceField(choices=Order.SalesChannel.choices, required=False)
    store = serializers.CharField(max_length=100, required=False, allow_blank=True)
    total_amount = serializers.DecimalField(**MONEY, required=False, help_text=_("Defaults to the sum of the lines."))
    placed_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(required=False, allow_null=True)
    shipped_at = serializers.DateTimeField(required=False, allow_null=True)
    delivered_at = serializers.DateTimeField(required=False, allow_null=True)
    lines = OrderLineInputSerializer(
        many=True, required=False, default=list, help_text=_("The order's lines; they replace the stored ones.")
    )


class ContractInputSerializer(_KeyedSerializer):
    plan = serializers.CharField(max_length=100)
    status = serializers.ChoiceField(choices=Contract.Status.choices, required=False)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    monthly_amount = serializers.DecimalField(**MONEY, required=False)


class InvoiceInputSerializer(_KeyedSerializer):
    status = serializers.ChoiceField(choices=Invoice.Status.choices, required=False)
    amount = serializers.DecimalField(**MONEY)
    issued_on = serializers.DateField()
    due_on = serializers.DateField()
    paid_on = serializers.DateField(required=False, allow_null=True)
    order_external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text=_("The customer's order of the same source.")
    )
    contract_external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text=_("The customer's contract of the same source.")
    )


class ProductInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    price = serializers.DecimalField(**MONEY, required=False)
    currency = serializers.CharField(min_length=3, max_length=3, required=False)
    is_active = serializers.BooleanField(required=False)
    source = serializers.CharField(max_length=50, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("external_id") and not attrs.get("source"):
            raise serializers.ValidationError(
                {"source": [ErrorDetail(str(_("Give the source system of the external id.")), code="required")]}
            )
        return attrs


def bulk_input_serializer(record_serializer: type[serializers.Serializer], name: str):
    """The documented shape of a bulk request: ``{"records": [...]}`` (records are validated one by one)."""
    return type(
        f"{name}BulkInputSerializer",
        (serializers.Serializer,),
        {
            "records": record_serializer(many=True, help_text=_("At most %(limit)s records.") % {"limit": BULK_LIMIT}),
            "__doc__": f"Up to {BULK_LIMIT} {name.lower()} records; each is saved or refused on its own.",
        },
    )


class UpsertResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("Position of the record in the request, from 0."))
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"])
    id = serializers.IntegerField(allow_null=True, help_text=_("The Relais id of the row; null on error."))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField(child=serializers.CharField())),
        help_text=_("Field path (dotted for nested input) to its errors, as in the error format; empty if none."),
    )


class BulkOutputSerializer(serializers.Serializer):
    results = UpsertResultSerializer(many=True)
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = serializers.IntegerField(help_text=_("How many records were refused (nothing of them written)."))


CustomerBulkInputSerializer = bulk_input_serializer(CustomerUpsertInputSerializer, "Customer")
ProductBulkInputSerializer = bulk_input_serializer(ProductInputSerializer, "Product")
OrderBulkInputSerializer = bulk_input_serializer(OrderInputSerializer, "Order")
ContractBulkInputSerializer = bulk_input_serializer(ContractInputSerializer, "Contract")
InvoiceBulkInputSerializer = bulk_input_serializer(InvoiceInputSerializer, "Invoice")
