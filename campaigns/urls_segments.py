"""HTML routes of segments (included by campaigns/urls.py under /campaigns/segments/)."""

from django.urls import path

from campaigns.views import segments

urlpatterns = [
    path("", segments.segment_list_view, name="segment_list"),
    path("new/", segments.segment_create_view, name="segment_create"),
    path("new/static/", segments.segment_static_create_view, name="segment_static_create"),
    path("count/", segments.segment_count_hx, name="segment_count_hx"),
    path("<int:pk>/", segments.segment_detail_view, name="segment_detail"),
    path("<int:pk>/edit/", segments.segment_edit_view, name="segment_edit"),
    path("<int:pk>/status/", segments.segment_status_hx, name="segment_status_hx"),
    path("<int:pk>/refresh/", segments.segment_refresh_view, name="segment_refresh"),
    path("<int:pk>/archive/", segments.segment_archive_view, name="segment_archive"),
    path("<int:pk>/delete/", segments.segment_delete_view, name="segment_delete"),
    path("<int:pk>/members.csv", segments.segment_export_view, name="segment_export"),
]
