"""Template context shared by every staff page."""

from __future__ import annotations

from crm.navigation import nav_for_user


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_items": nav_for_user(user)}
