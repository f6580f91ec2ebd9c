"""API routes: desk (cases)."""

from django.urls import path

from channels.api import desk

urlpatterns = [
    path("cases/", desk.CaseListCreateApi.as_view(), name="api_v1_cases"),
    path("cases/<int:pk>/", desk.CaseDetailApi.as_view(), name="api_v1_case"),
]
