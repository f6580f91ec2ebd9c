"""API routes: chat."""

urlpatterns: list = []
