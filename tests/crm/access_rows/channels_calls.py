"""Access rules of the channels calls area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

CONSOLE = row(LOGIN, 403, 200, 200, 403, 200)

ROWS: dict = {
    "channels:console": ("get", {}, CONSOLE),
    "channels:console_stream": ("get", {}, CONSOLE),
    "channels:call_outbound_search": ("get", {}, CONSOLE),
    "channels:call_card": ("get", {"pk": "@call"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:call_outcome": ("post", {"pk": "@call"}, row(LOGIN, 403, 400, 400, 403, 400)),
    "channels:call_prospect": ("post", {"pk": "@call"}, row(LOGIN, 403, 400, 400, 403, 400)),
    "channels:call_link_search": ("get", {"pk": "@call"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:call_link": ("post", {"pk": "@call"}, row(LOGIN, 403, 404, 404, 403, 404)),
    # Signed by the telephony system's shared secret, never by a session or a token.
    "api_v1_channel_call_events": ("post", {}, row(401, 401, 401, 401, 401, 401)),
}
