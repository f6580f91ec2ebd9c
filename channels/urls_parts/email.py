"""HTML routes: email."""

urlpatterns: list = []
