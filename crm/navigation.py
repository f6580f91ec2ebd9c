"""The sidebar: each entry names the permission it needs, so a role sees only what it may use.

Apps add their entries from ``AppConfig.ready()`` with ``nav_register`` (a hook registry, so the
project package never imports the apps).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    icon: str
    description: str | Promise = ""
    permission: str | None = None
    section: str = "main"
    order: int = 100

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_items: dict[str, NavItem] = {}


def nav_register(item: NavItem) -> None:
    _items[item.key] = item


def nav_for_user(user) -> list[NavItem]:
    """Entries the user may open, in display order."""
    if not user.is_authenticated:
        return []
    return [
        item
        for item in sorted(_items.values(), key=lambda i: (i.section != "main", i.order))
        if item.permission is None or user.has_perm(item.permission)
    ]


def nav_items_by_key(keys: tuple[str, ...]) -> list[NavItem]:
    """The registered entries named by ``keys``, in that order (unknown keys are left out)."""
    return [_items[key] for key in keys if key in _items]
