"""Who may use a view: every HTML view in Relais is wrapped by exactly one of these decorators.

``public_view`` (anyone, e.g. login and /health/), ``staff_view`` (any signed-in staff member) or
``staff_view(permission="app.codename")``. A signed-in user without the permission gets the 403 page,
not a login redirect. ``tests/crm/test_access_map.py`` walks the URL map and fails on a view that
declares none, so a new URL cannot ship without a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

ACCESS_ATTRIBUTE = "relais_access"


def public_view(view: Callable) -> Callable:
    setattr(view, ACCESS_ATTRIBUTE, "public")
    return view


def staff_view(view: Callable | None = None, *, permission: str | None = None) -> Callable:
    def decorate(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_active or (permission and not user.has_perm(permission)):
                raise PermissionDenied
            return func(request, *args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, f"perm:{permission}" if permission else "staff")
        return wrapper

    return decorate(view) if view is not None else decorate


def declared_access(view: Callable) -> str | None:
    """The access rule a view declared, looking through class-based view wrappers."""
    rule = getattr(view, ACCESS_ATTRIBUTE, None)
    if rule is None and hasattr(view, "view_class"):
        rule = getattr(view.view_class, ACCESS_ATTRIBUTE, None)
    return rule
