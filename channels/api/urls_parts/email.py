"""API routes: email."""

urlpatterns: list = []
