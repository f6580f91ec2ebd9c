"""Routes: imports (see customers/urls.py)."""

urlpatterns: list = []
