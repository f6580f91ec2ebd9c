"""Access rules of the channels desk area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

ROWS: dict = {
    "channels:case_list": ("get", {}, row(LOGIN, 403, 200, 200, 200, 200)),
    "channels:case_new": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:case_create": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:case_detail": ("get", {"pk": "@case"}, row(LOGIN, 403, 200, 200, 200, 200)),
    "channels:case_status": ("post", {"pk": "@case"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:case_assign": ("post", {"pk": "@case"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:case_classify": ("post", {"pk": "@case"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:case_note": ("post", {"pk": "@case"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:queues": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:queue_detail": ("get", {"pk": "@queue"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:queue_take_next": ("post", {"pk": "@queue"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:availability": ("post", {}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:supervisor": ("get", {}, row(LOGIN, 403, 403, 200, 403, 200)),
    "channels:staff_picker_hx": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:my_work": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:follow_up_done": ("post", {"pk": "@follow_up"}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:survey_answer": ("get", {"token": "guessed-token"}, row(404, 404, 404, 404, 404, 404)),
    "api_v1_cases": ("get", {}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_case": ("get", {"pk": "@case"}, row(401, 403, 200, 200, 200, 200)),
}
