"""HTML routes of the campaigns app (mounted under /campaigns/ by crm.urls)."""

app_name = "campaigns"
urlpatterns: list = []
