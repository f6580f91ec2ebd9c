"""API routes: chat (the widget API for visitors of a customer's site, under /api/v1/widget/)."""

from django.urls import path

from channels.api import chat

urlpatterns: list = [
    path("widget/<str:site_key>/chats/", chat.ChatStartApi.as_view(), name="api_v1_widget_chat_start"),
    path("widget/<str:site_key>/chats/<int:pk>/messages/", chat.ChatMessagesApi.as_view(),
         name="api_v1_widget_chat_messages"),
    path("widget/<str:site_key>/chats/<int:pk>/stream/", chat.ChatStreamApi.as_view(),
         name="api_v1_widget_chat_stream"),
    path("widget/<str:site_key>/chats/<int:pk>/end/", chat.ChatEndApi.as_view(), name="api_v1_widget_chat_end"),
    path("widget/<str:site_key>/callbacks/", chat.CallbackRequestApi.as_view(), name="api_v1_widget_callback"),
]  # fmt: skip
