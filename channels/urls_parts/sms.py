"""HTML routes: sms."""

urlpatterns: list = []
