"""Access rules of the segment screens (see tests/crm/test_access_map.py): marketers and admins only."""

from tests.crm.access_rows.common import LOGIN, row

MARKETING = row(LOGIN, 403, 403, 403, 200, 200)
MARKETING_POST = row(LOGIN, 403, 403, 403, 302, 302)

ROWS: dict = {
    "campaigns:segment_list": ("get", {}, MARKETING),
    "campaigns:segment_create": ("get", {}, MARKETING),
    "campaigns:segment_static_create": ("get", {}, MARKETING),
    "campaigns:segment_count_hx": ("post", {}, MARKETING),
    "campaigns:segment_detail": ("get", {"pk": "@segment"}, MARKETING),
    "campaigns:segment_edit": ("get", {"pk": "@segment"}, MARKETING),
    "campaigns:segment_status_hx": ("get", {"pk": "@segment"}, MARKETING),
    "campaigns:segment_export": ("get", {"pk": "@segment"}, MARKETING),
    "campaigns:segment_refresh": ("post", {"pk": "@segment"}, MARKETING_POST),
    "campaigns:segment_archive": ("post", {"pk": "@segment"}, MARKETING_POST),
    "campaigns:segment_delete": ("post", {"pk": "@segment"}, MARKETING_POST),
}
