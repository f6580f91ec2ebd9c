"""HTML routes: timeline."""

urlpatterns: list = []
