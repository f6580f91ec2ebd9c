"""HTML routes of the selfcare app (mounted under /selfcare/ by crm.urls)."""

app_name = "selfcare"
urlpatterns: list = []
