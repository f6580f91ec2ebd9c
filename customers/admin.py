"""Django admin of the customer record: a read-only view for administrators.

Every change to the record goes through the agent UI, the API or an import, that is through the
services (normalised values, the live-customer rule, history naming who did it, consent proof). The
admin is no second write path for them: customers, contact points, addresses, external ids, orders,
contracts, invoices, duplicate pairs, import jobs and the consent ledger are view-only here. Custom
attribute definitions, saved filters, products and import mappings (configuration) are edited here.
"""

from __future__ import annotations

from django.contrib import admin

from customers.models import (
    AttributeDefinition,
    Consent,
    ContactPoint,
    Contract,
    Customer,
    CustomerExternalId,
    DuplicatePair,
    ImportJob,
    ImportMapping,
    ImportRowError,
    Invoice,
    Order,
    OrderLine,
    PostalAddress,
    Product,
    SavedFilter,
    StageChange,
)


class RecordAdmin(admin.ModelAdmin):
    """A model the services own: listed and inspected here, never added, edited or deleted by hand."""

    show_full_result_count = False  # no COUNT(*) over a million rows

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ContactPointInline(ReadOnlyInline):
    model = ContactPoint
    fields = ["kind", "value", "label", "is_primary", "is_verified", "is_undeliverable"]


class AddressInline(ReadOnlyInline):
    model = PostalAddress
    fields = ["line1", "line4", "line6", "country", "is_primary"]


class ExternalIdInline(ReadOnlyInline):
    model = CustomerExternalId
    fields = ["source", "value"]


@admin.register(Customer)
class CustomerAdmin(RecordAdmin):
    list_display = ["account_number", "given_name", "family_name", "company_name", "kind", "stage", "owner",
                    "created_at", "merged_into", "anonymised_at"]  # fmt: skip
    list_filter = ["stage", "kind", "language", "created_via", ("merged_into", admin.EmptyFieldListFilter),
                   ("anonymised_at", admin.EmptyFieldListFilter)]  # fmt: skip
    search_fields = ["=account_number", "family_name", "given_name", "company_name"]
    show_full_result_count = False  # no COUNT(*) over a million rows
    list_select_related = ["owner", "merged_into"]
    raw_id_fields = ["owner", "merged_into"]
    readonly_fields = ["account_number", "search_name", "created_at", "updated_at", "merged_into", "merged_at",
                       "anonymised_at", "stage", "stage_entered_at"]  # fmt: skip
    inlines = [ContactPointInline, AddressInline, ExternalIdInline]
    date_hierarchy = None


@admin.register(ContactPoint)
class ContactPointAdmin(RecordAdmin):
    list_display = ["value", "kind", "customer", "is_primary", "is_verified", "is_undeliverable"]
    list_filter = ["kind", "is_primary", "is_verified", "is_undeliverable"]
    search_fields = ["=value", "^value"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
    show_full_result_count = False


@admin.register(PostalAddress)
class PostalAddressAdmin(RecordAdmin):
    list_display = ["customer", "line4", "postcode", "city", "country", "is_primary", "is_undeliverable"]
    list_filter = ["country", "is_primary", "is_undeliverable"]
    search_fields = ["=postcode", "city"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
    show_full_result_count = False


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """The ledger is append-only (the database refuses edits): the admin only reads it."""

    list_display = ["customer", "channel", "purpose", "status", "source", "occurred_at", "agent"]
    list_filter = ["channel", "purpose", "status", "source"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer", "agent"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ["customer", "stage", "previous_stage", "entered_at", "acting_user", "source"]
    list_filter = ["stage", "source"]
    raw_id_fields = ["customer", "acting_user"]
    list_select_related = ["customer", "acting_user"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "label_fr", "type", "is_required", "order"]
    list_editable = ["label", "label_fr", "is_required", "order"]
    list_filter = ["type", "is_required"]
    search_fields = ["key", "label", "label_fr"]


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "is_shared", "query", "created_at"]
    list_filter = ["is_shared"]
    search_fields = ["name"]
    list_select_related = ["owner"]


@admin.register(CustomerExternalId)
class CustomerExternalIdAdmin(RecordAdmin):
    list_display = ["source", "value", "customer"]
    list_filter = ["source"]
    search_fields = ["=value"]
    raw_id_fields = ["customer"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "currency", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["=sku", "name"]


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    show_change_link = False


@admin.register(Order)
class OrderAdmin(RecordAdmin):
    list_display = ["number", "customer", "status", "sales_channel", "total_amount", "currency", "placed_at"]
    list_filter = ["status", "sales_channel"]
    search_fields = ["=number", "=external_id"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
    show_full_result_count = False
    inlines = [OrderLineInline]


@admin.register(Contract)
class ContractAdmin(RecordAdmin):
    list_display = ["number", "customer", "plan", "status", "start_date", "end_date", "monthly_amount"]
    list_filter = ["status", "plan"]
    search_fields = ["=number", "=external_id"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(Invoice)
class InvoiceAdmin(RecordAdmin):
    list_display = ["number", "customer", "status", "amount", "currency", "issued_on", "due_on", "paid_on"]
    list_filter = ["status"]
    search_fields = ["=number", "=external_id"]
    raw_id_fields = ["customer", "order", "contract"]
    list_select_related = ["customer"]


@admin.register(DuplicatePair)
class DuplicatePairAdmin(RecordAdmin):
    list_display = ["customer_low", "customer_high", "score", "status", "found_at", "reviewed_by"]
    list_filter = ["status"]
    raw_id_fields = ["customer_low", "customer_high", "reviewed_by"]
    list_select_related = ["customer_low", "customer_high", "reviewed_by"]


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ["source", "kind", "updated_at"]
    list_filter = ["kind"]


class ImportRowErrorInline(ReadOnlyInline):
    model = ImportRowError
    fields = ["row_number", "column", "value", "reason"]
    show_change_link = False


@admin.register(ImportJob)
class ImportJobAdmin(RecordAdmin):
    list_display = ["original_name", "kind", "source", "status", "total_rows", "created_rows", "error_rows",
                    "created_by", "created_at"]  # fmt: skip
    list_filter = ["status", "kind"]
    readonly_fields = ["status", "total_rows", "processed_rows", "created_rows", "updated_rows", "error_rows",
                       "failure", "started_at", "finished_at"]  # fmt: skip
    inlines = [ImportRowErrorInline]
