"""``{% sidebar %}``: the staff sidebar, rendered once per (visible entries, active page, language).

Every signed-in page draws the same sidebar; rendering it (two loops over the entries, an SVG icon
each) was the largest part of the page floor. Its HTML depends only on which entries the user may
open, which page is active and the language, so it is kept in a small per-process cache. With DEBUG on
it is rendered every time, so that an edited template shows at once.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from crm.navigation import nav_items_by_key

register = template.Library()


def _render(keys: tuple[str, ...], active: str) -> SafeString:
    return mark_safe(render_to_string("crm/sidebar.html", {"nav_items": nav_items_by_key(keys), "active": active}))


@lru_cache(maxsize=1024)
def _render_kept(keys: tuple[str, ...], active: str, language: str) -> SafeString:
    return _render(keys, active)


@register.simple_tag(takes_context=True)
def sidebar(context) -> SafeString:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    active = (match.url_name or "") if match else ""
    keys = tuple(item.key for item in context.get("nav_items", ()))
    if settings.DEBUG:
        return _render(keys, active)
    return _render_kept(keys, active, translation.get_language() or "")
