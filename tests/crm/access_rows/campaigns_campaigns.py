"""Access rules of the campaign and template screens (see tests/crm/test_access_map.py): marketers and
admins; the status actions need ``campaigns.manage_campaign``."""

from tests.crm.access_rows.common import LOGIN, row

MARKETING = row(LOGIN, 403, 403, 403, 200, 200)
MARKETING_POST = row(LOGIN, 403, 403, 403, 302, 302)

ROWS: dict = {
    "campaigns:campaign_list": ("get", {}, MARKETING),
    "campaigns:campaign_create": ("get", {}, MARKETING),
    "campaigns:campaign_detail": ("get", {"pk": "@campaign"}, MARKETING),
    "campaigns:campaign_edit": ("get", {"pk": "@campaign"}, MARKETING),
    "campaigns:campaign_progress_hx": ("get", {"pk": "@campaign"}, MARKETING),
    "campaigns:campaign_launch": ("post", {"pk": "@campaign"}, MARKETING_POST),
    "campaigns:campaign_pause": ("post", {"pk": "@campaign"}, MARKETING_POST),
    "campaigns:campaign_resume": ("post", {"pk": "@campaign"}, MARKETING_POST),
    "campaigns:campaign_cancel": ("post", {"pk": "@campaign"}, MARKETING_POST),
    "campaigns:template_list": ("get", {}, MARKETING),
    "campaigns:template_create": ("get", {}, MARKETING),
    "campaigns:template_preview_hx": ("post", {}, MARKETING),
    "campaigns:template_edit": ("get", {"pk": "@campaign_template"}, MARKETING),
    "campaigns:template_test_send": ("post", {"pk": "@campaign_template"}, MARKETING_POST),
}
