"""API routes: sms (the provider's webhooks)."""

from django.urls import path

from channels.api import sms

urlpatterns: list = [
    path("channels/sms/inbound/", sms.SmsInboundApi.as_view(), name="api_v1_sms_inbound"),
    path("channels/sms/status/", sms.SmsStatusApi.as_view(), name="api_v1_sms_status"),
]
