"""Routes: record (see customers/urls.py)."""

urlpatterns: list = []
