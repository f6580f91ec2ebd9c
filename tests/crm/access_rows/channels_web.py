"""Access rules of the channels web area (see tests/crm/test_access_map.py)."""

from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, row  # noqa: F401

ROWS: dict = {
    # The shop page is public (it is what a site visitor sees).
    "channels:web_demo": ("get", {}, row(200, 200, 200, 200, 200, 200)),
    # Sites authenticate with their key, never with a staff session: everyone without one gets 401.
    "api_v1_channels_events": ("post", {}, row(401, 401, 401, 401, 401, 401)),
}
