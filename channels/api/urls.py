"""API routes of the channels app, mounted under /api/v1/ (URL names start with ``api_v1_``)."""

from channels.api.urls_parts import calls, chat, desk, email, postal, sms, timeline, web

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
