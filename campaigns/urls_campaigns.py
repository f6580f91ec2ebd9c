"""HTML routes of campaigns, templates and tracking (included by campaigns/urls.py)."""

from django.urls import path

from campaigns.views import tracking

urlpatterns = [
    path("t/o/<str:token>.gif", tracking.track_open, name="track_open"),
    path("t/c/<str:token>/", tracking.track_click, name="track_click"),
    path("t/u/<str:token>/", tracking.unsubscribe, name="unsubscribe"),
]
