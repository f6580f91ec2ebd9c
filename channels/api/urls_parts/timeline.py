"""API routes: timeline."""

urlpatterns: list = []
