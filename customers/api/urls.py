"""API routes of the customer record, mounted under /api/v1/."""

urlpatterns: list = []
