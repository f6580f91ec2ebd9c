"""HTML routes: sms."""

from django.urls import path

from channels.views import sms

urlpatterns: list = [
    path("customers/<int:pk>/sms/", sms.sms_compose, name="sms_compose"),
    path("sms/outbox/", sms.sms_outbox, name="sms_outbox"),
]
