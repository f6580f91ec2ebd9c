"""API routes of the analytics app, mounted under /api/v1/ (URL names start with ``api_v1_``)."""

from django.urls import path

from analytics import api

urlpatterns = [
    path("customers/<int:pk>/scores/", api.CustomerScoresApi.as_view(), name="api_v1_customer_scores"),
    path("personalise/", api.PersonaliseApi.as_view(), name="api_v1_personalise"),
]
