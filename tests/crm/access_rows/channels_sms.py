"""Access rules of the channels sms area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

# The webhooks authenticate the provider by a shared token, never a user: nobody in the map holds it,
# and the test settings configure none, so every visitor gets 503 ("webhooks are off").
WEBHOOK = row(503, 503, 503, 503, 503, 503)

ROWS: dict = {
    "channels:sms_compose": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:sms_outbox": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "api_v1_sms_inbound": ("post", {}, WEBHOOK),
    "api_v1_sms_status": ("post", {}, WEBHOOK),
}
