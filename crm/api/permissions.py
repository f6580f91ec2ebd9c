"""DRF permission classes that check Django permissions, so the API and the HTML views share one rule."""

from __future__ import annotations

from rest_framework import permissions

from crm.models import ApiToken


class HasPermission(permissions.BasePermission):
    """Allow a signed-in, active caller holding the Django permission ``perm`` ("app_label.codename").

    Used as ``permission_classes = [HasPermission("crm.view_user")]``: DRF instantiates each entry
    of ``permission_classes``, so an instance returns itself when called. Anonymous callers get 401,
    callers without the permission 403 (DRF decides which from the authentication result).
    """

    def __init__(self, perm: str) -> None:
        self.perm = perm

    def __call__(self) -> HasPermission:
        return self

    def __repr__(self) -> str:
        return f"HasPermission({self.perm!r})"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.has_perm(self.perm))


class SessionOnly(permissions.BasePermission):
    """Refuse callers authenticated by an API token (a leaked key must not mint new keys)."""

    message = "This action needs a signed-in browser session; an API token cannot do it."

    def has_permission(self, request, view) -> bool:
        return not isinstance(request.auth, ApiToken)
