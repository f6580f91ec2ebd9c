"""HTML routes: postal."""

urlpatterns: list = []
