"""HTML routes: web."""

urlpatterns: list = []
