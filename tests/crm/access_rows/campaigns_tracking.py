"""Access rules of the campaigns' public tracking links (see tests/crm/test_access_map.py).

They authenticate by a signed token, never a user: a bad token is a 404 for everyone, except the open
pixel, which always answers its transparent GIF (and records nothing for a bad token).
"""

from tests.crm.access_rows.common import row

ROWS: dict = {
    "campaigns:track_open": ("get", {"token": "bad"}, row(200, 200, 200, 200, 200, 200)),
    "campaigns:track_click": ("get", {"token": "bad"}, row(404, 404, 404, 404, 404, 404)),
    "campaigns:unsubscribe": ("get", {"token": "bad"}, row(404, 404, 404, 404, 404, 404)),
}
