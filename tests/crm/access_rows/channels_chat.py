"""Access rules of the channels chat area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

CONSOLE_PAGE = row(LOGIN, 403, 200, 200, 403, 200)
# The widget API answers browsers on a site's allowed origins only: no Origin, no answer, whoever calls.
WIDGET = row(403, 403, 403, 403, 403, 403)
CHAT = {"site_key": "no-such-site", "pk": "@chat"}

ROWS: dict = {
    "channels:chat_queue": ("get", {}, CONSOLE_PAGE),
    "channels:chat_queue_hx": ("get", {}, CONSOLE_PAGE),
    "channels:chat_console_stream": ("get", {}, CONSOLE_PAGE),
    "channels:chat_detail": ("get", {"pk": "@chat"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:chat_transcript_hx": ("get", {"pk": "@chat"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:chat_stream": ("get", {"pk": "@chat"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:chat_take": ("post", {"pk": "@chat"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:chat_reply": ("post", {"pk": "@chat"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:chat_push": ("post", {"pk": "@chat"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:chat_end": ("post", {"pk": "@chat"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:chat_case_open": ("post", {"pk": "@chat"}, row(LOGIN, 403, 302, 302, 403, 302)),
    # Marketers may look customers up, but no chat is theirs to see: 404.
    "channels:chat_customer_search_hx": ("get", {"pk": "@chat"}, row(LOGIN, 403, 200, 200, 404, 200)),
    "channels:chat_customer_link": ("post", {"pk": "@chat"}, row(LOGIN, 403, 302, 302, 404, 302)),
    "channels:callback_detail": ("get", {"pk": "@callback"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:callback_take": ("post", {"pk": "@callback"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:callback_close": ("post", {"pk": "@callback"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "api_v1_widget_chat_start": ("post", {"site_key": "no-such-site"}, WIDGET),
    "api_v1_widget_chat_messages": ("get", CHAT, WIDGET),
    "api_v1_widget_chat_stream": ("get", CHAT, WIDGET),
    "api_v1_widget_chat_end": ("post", CHAT, WIDGET),
    "api_v1_widget_callback": ("post", {"site_key": "no-such-site"}, WIDGET),
}
