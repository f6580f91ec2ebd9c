"""HTML routes of the customers app (mounted under /customers/ by crm.urls)."""

app_name = "customers"
urlpatterns: list = []
