"""Access rules of the channels chat area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

CONSOLE_PAGE = row(LOGIN, 403, 200, 200, 403, 200)
CONSOLE_OBJECT = row(LOGIN, 403, 404, 404, 403, 404)
# The widget API answers browsers on a site's allowed origins only: no Origin, no answer, whoever calls.
WIDGET = row(403, 403, 403, 403, 403, 403)
CHAT = {"site_key": "no-such-site", "pk": 999999}

ROWS: dict = {
    "channels:chat_queue": ("get", {}, CONSOLE_PAGE),
    "channels:chat_queue_hx": ("get", {}, CONSOLE_PAGE),
    "channels:chat_console_stream": ("get", {}, CONSOLE_PAGE),
    "channels:chat_detail": ("get", {"pk": 999999}, CONSOLE_OBJECT),
    "channels:chat_transcript_hx": ("get", {"pk": 999999}, CONSOLE_OBJECT),
    "channels:chat_stream": ("get", {"pk": 999999}, CONSOLE_OBJECT),
    "channels:chat_take": ("post", {"pk": 999999}, CONSOLE_OBJECT),
    "channels:chat_reply": ("post", {"pk": 999999}, CONSOLE_OBJECT),
    "channels:chat_push": ("post", {"pk": 999999}, CONSOLE_OBJECT),
    "channels:chat_end": ("post", {"pk": 999999}, CONSOLE_OBJECT),
    "channels:chat_case_open": ("post", {"pk": 999999}, CONSOLE_OBJECT),
    # Marketers may look customers up, but no chat is theirs to see: 404.
    "channels:chat_customer_search_hx": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 404, 404)),
    "channels:chat_customer_link": ("post", {"pk": 999999}, row(LOGIN, 403, 404, 404, 404, 404)),
    "channels:callback_detail": ("get", {"pk": 999999}, CONSOLE_OBJECT),
    "channels:callback_take": ("post", {"pk": 999999}, CONSOLE_OBJECT),
    "channels:callback_close": ("post", {"pk": 999999}, CONSOLE_OBJECT),
    "api_v1_widget_chat_start": ("post", {"site_key": "no-such-site"}, WIDGET),
    "api_v1_widget_chat_messages": ("get", CHAT, WIDGET),
    "api_v1_widget_chat_stream": ("get", CHAT, WIDGET),
    "api_v1_widget_chat_end": ("post", CHAT, WIDGET),
    "api_v1_widget_callback": ("post", {"site_key": "no-such-site"}, WIDGET),
}
