"""API routes: timeline (a customer's interactions, recording and reading one)."""

from django.urls import path

from channels.api import timeline

urlpatterns = [
    path(
        "customers/<int:pk>/interactions/",
        timeline.CustomerInteractionListApi.as_view(),
        name="api_v1_customer_interactions",
    ),
    path("channels/interactions/", timeline.InteractionCreateApi.as_view(), name="api_v1_interactions"),
    path("channels/interactions/<int:pk>/", timeline.InteractionDetailApi.as_view(), name="api_v1_interaction"),
]
