"""HTML routes: chat (the agents' queue of chats and call-backs, one chat, one call-back)."""

from django.urls import path

from channels.views import chat

urlpatterns: list = [
    path("chats/", chat.chat_queue, name="chat_queue"),
    path("chats/lists/", chat.chat_queue_hx, name="chat_queue_hx"),
    path("chats/stream/", chat.chat_console_stream, name="chat_console_stream"),
    path("chats/<int:pk>/", chat.chat_detail, name="chat_detail"),
    path("chats/<int:pk>/transcript/", chat.chat_transcript_hx, name="chat_transcript_hx"),
    path("chats/<int:pk>/stream/", chat.chat_stream, name="chat_stream"),
    path("chats/<int:pk>/take/", chat.chat_take, name="chat_take"),
    path("chats/<int:pk>/reply/", chat.chat_reply, name="chat_reply"),
    path("chats/<int:pk>/push/", chat.chat_push, name="chat_push"),
    path("chats/<int:pk>/end/", chat.chat_end, name="chat_end"),
    path("chats/<int:pk>/case/", chat.chat_case_open, name="chat_case_open"),
    path("chats/<int:pk>/customers/", chat.chat_customer_search_hx, name="chat_customer_search_hx"),
    path("chats/<int:pk>/customer/", chat.chat_customer_link, name="chat_customer_link"),
    path("callbacks/<int:pk>/", chat.callback_detail, name="callback_detail"),
    path("callbacks/<int:pk>/take/", chat.callback_take, name="callback_take"),
    path("callbacks/<int:pk>/close/", chat.callback_close, name="callback_close"),
]
