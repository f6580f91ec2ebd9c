"""/api/: the versioned REST API, its OpenAPI schema and interactive docs.

The version is part of the path (``/api/v1/``); a breaking change gets ``/api/v2/`` beside it.
The schema and the docs are public: they describe the API, not data.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import crm.api.schema  # noqa: F401 (registers the token authentication scheme with drf-spectacular)
from crm.access import public_view
from crm.api import views

v1_urlpatterns = [
    path("me/", views.MeApi.as_view(), name="api_v1_me"),
    path("tokens/", views.ApiTokenListCreateApi.as_view(), name="api_v1_tokens"),
    path("tokens/<int:id>/", views.ApiTokenDetailApi.as_view(), name="api_v1_token"),
    path("staff/", views.StaffListApi.as_view(), name="api_v1_staff"),
    # Apps mount their endpoints by dotted path, so this package imports none of them.
    path("", include("customers.api.urls")),
    path("", include("channels.api.urls")),
]

urlpatterns = [
    path("v1/", include(v1_urlpatterns)),
    path("schema/", public_view(SpectacularAPIView.as_view()), name="api_schema"),
    path("docs/", public_view(SpectacularSwaggerSplitView.as_view(url_name="api_schema")), name="api_docs"),
]
