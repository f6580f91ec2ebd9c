"""Access rules of the channels timeline area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

ROWS: dict = {
    "channels:timeline": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 200, 200)),
    "channels:call_log": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:visit_log": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:note_add": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:product_picker_hx": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "api_v1_customer_interactions": ("get", {"pk": "@customer"}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_interactions": ("post", {}, row(401, 403, 400, 400, 403, 400)),
    "api_v1_interaction": ("get", {"pk": "@interaction"}, row(401, 403, 200, 200, 200, 200)),
}
