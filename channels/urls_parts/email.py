"""HTML routes: email (compose a reply, read a thread, download an attachment)."""

from django.urls import path

from channels.views import email

urlpatterns = [
    path("email/customers/<int:pk>/compose/", email.email_compose, name="email_compose"),
    path("email/threads/<int:pk>/", email.email_thread, name="email_thread"),
    path("email/attachments/<int:pk>/", email.email_attachment, name="email_attachment"),
]
