"""Access rules of the channels postal area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

ROWS: dict = {
    "channels:letter_compose": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "channels:letter_detail": ("get", {"pk": "@letter"}, row(LOGIN, 403, 200, 200, 200, 200)),
    "channels:letter_pdf": ("get", {"pk": "@letter"}, row(LOGIN, 403, 200, 200, 200, 200)),
    "channels:letter_returned": ("post", {"pk": "@letter"}, row(LOGIN, 403, 403, 302, 403, 302)),
    "channels:letter_batches": ("get", {}, row(LOGIN, 403, 403, 200, 200, 200)),
    "channels:letter_batch_create": ("get", {}, row(LOGIN, 403, 403, 200, 200, 200)),
    "channels:letter_batch_detail": ("get", {"pk": "@batch"}, row(LOGIN, 403, 403, 200, 200, 200)),
    "channels:letter_batch_progress_hx": ("get", {"pk": "@batch"}, row(LOGIN, 403, 403, 200, 200, 200)),
    "channels:letter_batch_pdf": ("get", {"pk": "@batch"}, row(LOGIN, 403, 403, 200, 200, 200)),
    "channels:letter_batch_csv": ("get", {"pk": "@batch"}, row(LOGIN, 403, 403, 200, 200, 200)),
    "api_v1_letter_returned": ("post", {"pk": "@letter"}, row(401, 403, 403, 200, 403, 200)),
}
