"""Routes: record — the list, the header search, the 360 page and its forms (see customers/urls.py)."""

from django.urls import path

from customers.views import duplicates, listing, record

urlpatterns = [
    path("", listing.customer_list, name="list"),
    path("export.<str:fmt>", listing.customer_export, name="export"),
    path("search/", listing.customer_search_page, name="search"),
    path("search/_hx/", listing.customer_search_hx, name="search_hx"),
    path("owners/_hx/", listing.owner_picker_hx, name="owner_picker_hx"),
    path("filters/", listing.saved_filter_create, name="saved_filter_create"),
    path("filters/<int:pk>/delete/", listing.saved_filter_remove, name="saved_filter_delete"),
    path("new/", record.customer_create, name="create"),
    path("<int:pk>/", record.customer_detail, name="detail"),
    path("<int:pk>/orders/", record.customer_orders, name="orders"),
    path("<int:pk>/edit/", record.customer_edit, name="edit"),
    path("<int:pk>/stage/", record.customer_stage, name="stage"),
    path("<int:pk>/contact-points/new/", record.contact_point_add, name="contact_point_add"),
    path(
        "<int:pk>/contact-points/<int:contact_pk>/delete/", record.contact_point_remove, name="contact_point_remove"
    ),  # fmt: skip
    path("<int:pk>/addresses/new/", record.address_add, name="address_add"),
    path("<int:pk>/addresses/<int:address_pk>/edit/", record.address_edit, name="address_edit"),
    path("<int:pk>/consents/new/", record.consent_record, name="consent_record"),
    path("<int:pk>/merge/", duplicates.customer_merge_page, name="merge"),
]
