"""API routes of the customer record, mounted under /api/v1/ (URL names start with ``api_v1_``)."""

from django.urls import path

from customers.api import backoffice, customers, identity

urlpatterns = [
    path("customers/", customers.CustomerListCreateApi.as_view(), name="api_v1_customers"),
    path("customers/resolve/", identity.ResolveApi.as_view(), name="api_v1_customer_resolve"),
    path("customers/bulk/", backoffice.CustomerBulkUpsertApi.as_view(), name="api_v1_customer_bulk"),
    path(
        "customers/by-external-id/<str:source>/<str:external_id>/",
        backoffice.CustomerUpsertApi.as_view(),
        name="api_v1_customer_upsert",
    ),
    path("customers/<int:pk>/", customers.CustomerDetailApi.as_view(), name="api_v1_customer"),
    path(
        "customers/<int:pk>/contact-points/",
        customers.ContactPointListApi.as_view(),
        name="api_v1_customer_contact_points",
    ),
    path(
        "customers/<int:pk>/contact-points/<int:contact_point_id>/",
        customers.ContactPointDetailApi.as_view(),
        name="api_v1_customer_contact_point",
    ),
    path("customers/<int:pk>/addresses/", customers.AddressListApi.as_view(), name="api_v1_customer_addresses"),
    path(
        "customers/<int:pk>/addresses/<int:address_id>/",
        customers.AddressDetailApi.as_view(),
        name="api_v1_customer_address",
    ),
    path("customers/<int:pk>/consents/", customers.ConsentListApi.as_view(), name="api_v1_customer_consents"),
    path("customers/<int:pk>/merge/", identity.MergeApi.as_view(), name="api_v1_customer_merge"),
    path("customers/<int:pk>/export/", identity.ExportApi.as_view(), name="api_v1_customer_export"),
    path("customers/<int:pk>/erase/", identity.EraseApi.as_view(), name="api_v1_customer_erase"),
    path("products/bulk/", backoffice.ProductBulkUpsertApi.as_view(), name="api_v1_product_bulk"),
    path("products/by-sku/<str:sku>/", backoffice.ProductSkuUpsertApi.as_view(), name="api_v1_product_upsert_sku"),
    path(
        "products/by-external-id/<str:source>/<str:external_id>/",
        backoffice.ProductUpsertApi.as_view(),
        name="api_v1_product_upsert",
    ),
    path("orders/bulk/", backoffice.OrderBulkUpsertApi.as_view(), name="api_v1_order_bulk"),
    path(
        "orders/by-external-id/<str:source>/<str:external_id>/",
        backoffice.OrderUpsertApi.as_view(),
        name="api_v1_order_upsert",
    ),
    path("contracts/bulk/", backoffice.ContractBulkUpsertApi.as_view(), name="api_v1_contract_bulk"),
    path(
        "contracts/by-external-id/<str:source>/<str:external_id>/",
        backoffice.ContractUpsertApi.as_view(),
        name="api_v1_contract_upsert",
    ),
    path("invoices/bulk/", backoffice.InvoiceBulkUpsertApi.as_view(), name="api_v1_invoice_bulk"),
    path(
        "invoices/by-external-id/<str:source>/<str:external_id>/",
        backoffice.InvoiceUpsertApi.as_view(),
        name="api_v1_invoice_upsert",
    ),
]
