"""API routes: calls."""

urlpatterns: list = []
