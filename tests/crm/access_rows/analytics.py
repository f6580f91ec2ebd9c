"""Access rules of the analytics area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import row

ROWS: dict = {
    "api_v1_customer_scores": ("get", {"pk": "@customer"}, row(401, 403, 200, 200, 200, 200)),
    # A site key or a staff token/session; a staff member without a query gets 400 (visitor or customer).
    "api_v1_personalise": ("get", {}, row(401, 403, 400, 400, 400, 400)),
}
