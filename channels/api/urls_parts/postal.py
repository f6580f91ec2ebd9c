"""API routes: postal."""

from django.urls import path

from channels.api import postal

urlpatterns: list = [
    path("channels/letters/<int:pk>/returned/", postal.LetterReturnedApi.as_view(), name="api_v1_letter_returned"),
]
