"""HTML routes of the channels app (mounted under /channels/ by crm.urls)."""

app_name = "channels"
urlpatterns: list = []
