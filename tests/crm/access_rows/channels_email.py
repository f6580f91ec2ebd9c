"""Access rules of the channels email area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

ROWS: dict = {
    "api_v1_email_inbound": ("post", {}, row(401, 403, 403, 403, 403, 403)),
    "channels:email_compose": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:email_thread": ("get", {"pk": "@thread"}, row(LOGIN, 403, 200, 200, 200, 200)),
    "channels:email_attachment": ("get", {"pk": "@attachment"}, row(LOGIN, 403, 200, 200, 200, 200)),
}
