"""API routes: sms."""

urlpatterns: list = []
