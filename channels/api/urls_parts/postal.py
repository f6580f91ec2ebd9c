"""API routes: postal."""

urlpatterns: list = []
