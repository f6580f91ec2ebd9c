"""Access rules of the channels postal area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

ROWS: dict = {
    "channels:letter_compose": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 403, 404)),
    "channels:letter_detail": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 404, 404)),
    "channels:letter_pdf": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 404, 404)),
    "channels:letter_returned": ("post", {"pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
    "channels:letter_batches": ("get", {}, row(LOGIN, 403, 403, 200, 200, 200)),
    "channels:letter_batch_create": ("get", {}, row(LOGIN, 403, 403, 200, 200, 200)),
    "channels:letter_batch_detail": ("get", {"pk": 999999}, row(LOGIN, 403, 403, 404, 404, 404)),
    "channels:letter_batch_progress_hx": ("get", {"pk": 999999}, row(LOGIN, 403, 403, 404, 404, 404)),
    "channels:letter_batch_pdf": ("get", {"pk": 999999}, row(LOGIN, 403, 403, 404, 404, 404)),
    "channels:letter_batch_csv": ("get", {"pk": 999999}, row(LOGIN, 403, 403, 404, 404, 404)),
    "api_v1_letter_returned": ("post", {"pk": 999999}, row(401, 403, 403, 404, 403, 404)),
}
