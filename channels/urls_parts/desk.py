"""HTML routes: desk."""

urlpatterns: list = []
