"""Access rules of the channels desk area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

NOT_FOUND_FOR_CHANGERS = row(LOGIN, 403, 404, 404, 403, 404)

ROWS: dict = {
    "channels:case_list": ("get", {}, row(LOGIN, 403, 200, 200, 200, 200)),
    "channels:case_new": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:case_create": ("get", {"pk": 999999}, NOT_FOUND_FOR_CHANGERS),
    "channels:case_detail": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 404, 404)),
    "channels:case_status": ("post", {"pk": 999999}, NOT_FOUND_FOR_CHANGERS),
    "channels:case_assign": ("post", {"pk": 999999}, NOT_FOUND_FOR_CHANGERS),
    "channels:case_classify": ("post", {"pk": 999999}, NOT_FOUND_FOR_CHANGERS),
    "channels:case_note": ("post", {"pk": 999999}, NOT_FOUND_FOR_CHANGERS),
    "channels:queues": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:queue_detail": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 403, 404)),
    "channels:queue_take_next": ("post", {"pk": 999999}, NOT_FOUND_FOR_CHANGERS),
    "channels:availability": ("post", {}, row(LOGIN, 403, 302, 302, 403, 302)),
    "channels:supervisor": ("get", {}, row(LOGIN, 403, 403, 200, 403, 200)),
    "channels:staff_picker_hx": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:my_work": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:follow_up_done": ("post", {"pk": 999999}, NOT_FOUND_FOR_CHANGERS),
    "channels:survey_answer": ("get", {"token": "guessed-token"}, row(404, 404, 404, 404, 404, 404)),
    "api_v1_cases": ("get", {}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_case": ("get", {"pk": 999999}, row(401, 403, 404, 404, 404, 404)),
}
