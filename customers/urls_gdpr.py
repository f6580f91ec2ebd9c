"""Routes: gdpr (see customers/urls.py)."""

urlpatterns: list = []
