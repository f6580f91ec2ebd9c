"""API routes: email."""

from django.urls import path

from channels.api.email import EmailInboundApi

urlpatterns: list = [
    path("channels/email/inbound/", EmailInboundApi.as_view(), name="api_v1_email_inbound"),
]
