"""Images in sanitised HTML (inbound email): blocked by default, shown for one message on request.

A remote image is a read receipt for whoever sent it (tracking pixels), and a relative one is a GET
from the agent's browser, with the agent's cookies, to any URL of Relais. ``html_sanitise`` therefore
moves every ``<img src>`` to ``data-relais-src`` (an attribute browsers never fetch);
``images_reveal`` puts back, for the one message an agent chose, only absolute ``https://`` URLs
(``http://`` upgraded, as browsers do for mixed content) on hosts other than Relais's own. Both work
on nh3's output, where every attribute value is double-quoted and holds no raw ``"``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

BLOCKED_SRC = "data-relais-src"
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r'(\s)src="', re.IGNORECASE)
_BLOCKED = re.compile(r'\sdata-relais-src="([^"]*)"')


def images_block(html: str) -> str:
    """``html`` with every image's ``src`` moved to ``data-relais-src`` (nothing is fetched)."""
    if "<img" not in html:
        return html
    return _IMG.sub(lambda tag: _SRC.sub(rf'\1{BLOCKED_SRC}="', tag.group(0)), html)


def images_blocked(html: str) -> bool:
    """Whether the HTML holds images that ``images_block`` kept from loading."""
    return BLOCKED_SRC in html


def images_reveal(html: str, *, own_hosts: set[str]) -> str:
    """``html`` with its blocked images loading again when they are remote ``https`` images.

    Relative URLs, other schemes (``cid:`` parts are attachments) and URLs on one of ``own_hosts`` stay
    blocked: showing images must never make the agent's browser request a page of Relais.
    """

    def reveal(tag: re.Match) -> str:
        def one(attribute: re.Match) -> str:
            url = attribute.group(1).replace("&amp;", "&")
            parts = urlsplit(url)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                return attribute.group(0)
            if parts.hostname.lower() in own_hosts:
                return attribute.group(0)
            secure = "https" + url[len(parts.scheme) :]
            return ' src="' + secure.replace("&", "&amp;") + '"'

        return _BLOCKED.sub(one, tag.group(0))

    return _IMG.sub(reveal, html) if BLOCKED_SRC in html else html
