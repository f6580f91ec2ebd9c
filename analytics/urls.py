"""HTML routes of the analytics app (mounted under /analytics/ by crm.urls)."""

app_name = "analytics"
urlpatterns: list = []
