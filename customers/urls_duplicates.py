"""Routes: duplicates (see customers/urls.py)."""

from django.urls import path

from customers.views import duplicates

urlpatterns = [
    path("", duplicates.duplicate_list, name="duplicates"),
    path("scan/", duplicates.duplicate_scan, name="duplicates_scan"),
    path("scan/status/", duplicates.duplicate_scan_status_hx, name="duplicates_scan_status"),
    path("<int:pk>/", duplicates.duplicate_review, name="duplicate_review"),
    path("<int:pk>/dismiss/", duplicates.duplicate_dismiss_view, name="duplicate_dismiss"),
]
