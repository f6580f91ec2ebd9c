"""HTML routes: calls (the agent's phone console)."""

from django.urls import path

from channels.views import calls

urlpatterns = [
    path("console/", calls.console, name="console"),
    path("console/stream/", calls.console_stream, name="console_stream"),
    path("console/outbound/_hx/", calls.outbound_search_hx, name="call_outbound_search"),
    path("calls/<int:pk>/_hx/", calls.call_card_hx, name="call_card"),
    path("calls/<int:pk>/outcome/", calls.call_outcome, name="call_outcome"),
    path("calls/<int:pk>/prospect/", calls.call_prospect, name="call_prospect"),
    path("calls/<int:pk>/link/_hx/", calls.call_link_search_hx, name="call_link_search"),
    path("calls/<int:pk>/link/", calls.call_link, name="call_link"),
]
