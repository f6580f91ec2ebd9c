"""HTML routes: calls."""

urlpatterns: list = []
