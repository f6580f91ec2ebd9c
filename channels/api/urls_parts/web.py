"""API routes: web."""

urlpatterns: list = []
