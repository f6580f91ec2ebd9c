"""API routes: desk."""

urlpatterns: list = []
