"""Access rules of the channels timeline area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

READ = row(LOGIN, 403, 404, 404, 404, 404)  # everyone who sees interactions; marketers read only
WRITE = row(LOGIN, 403, 404, 404, 403, 404)

ROWS: dict = {
    "channels:timeline": ("get", {"pk": 999999}, READ),
    "channels:call_log": ("get", {"pk": 999999}, WRITE),
    "channels:visit_log": ("get", {"pk": 999999}, WRITE),
    "channels:note_add": ("get", {"pk": 999999}, WRITE),
    "channels:product_picker_hx": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "api_v1_customer_interactions": ("get", {"pk": 999999}, row(401, 403, 404, 404, 404, 404)),
    "api_v1_interactions": ("post", {}, row(401, 403, 400, 400, 403, 400)),
    "api_v1_interaction": ("get", {"pk": 999999}, row(401, 403, 404, 404, 404, 404)),
}
