"""HTML routes: chat."""

urlpatterns: list = []
