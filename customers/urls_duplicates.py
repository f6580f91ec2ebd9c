"""Routes: duplicates (see customers/urls.py)."""

urlpatterns: list = []
