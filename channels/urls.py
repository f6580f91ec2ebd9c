"""HTML routes of the channels app (mounted under /channels/ by crm.urls), one module per area."""

from channels.urls_parts import calls, chat, desk, email, postal, sms, timeline, web

app_name = "channels"
urlpatterns = [
    *timeline.urlpatterns,
    *calls.urlpatterns,
    *email.urlpatterns,
    *sms.urlpatterns,
    *postal.urlpatterns,
    *web.urlpatterns,
    *chat.urlpatterns,
    *desk.urlpatterns,
]
