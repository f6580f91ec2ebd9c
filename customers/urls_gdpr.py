"""Routes: gdpr (see customers/urls.py)."""

from django.urls import path

from customers.views import gdpr

urlpatterns: list = [
    path("<int:pk>/export/", gdpr.gdpr_export, name="gdpr_export"),
    path("<int:pk>/erase/", gdpr.gdpr_erase, name="gdpr_erase"),
    path("<int:pk>/invoices/<int:invoice_pk>/pdf/", gdpr.invoice_pdf_view, name="invoice_pdf"),
]
