"""API routes: calls (computer-telephony integration)."""

from django.urls import path

from channels.api.calls import CallEventApi

urlpatterns = [
    path("channels/calls/", CallEventApi.as_view(), name="api_v1_channel_call_events"),
]
