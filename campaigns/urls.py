"""HTML routes of the campaigns app (mounted under /campaigns/ by crm.urls)."""

from django.urls import include, path

app_name = "campaigns"
urlpatterns: list = [
    path("", include("campaigns.urls_campaigns")),
    path("segments/", include("campaigns.urls_segments")),
]
