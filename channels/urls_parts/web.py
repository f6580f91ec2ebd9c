"""HTML routes: web."""

from django.urls import path

from channels.views import web

urlpatterns: list = [
    path("web/demo/", web.web_demo, name="web_demo"),
]
