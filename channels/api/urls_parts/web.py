"""API routes: web."""

from django.urls import path

from channels.api.web import WebEventIngestApi

urlpatterns: list = [
    path("channels/events/", WebEventIngestApi.as_view(), name="api_v1_channels_events"),
]
