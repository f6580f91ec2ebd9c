"""Interactive sign-in is for people: the Integration role (API-token service accounts) is refused it.

Two layers, so no path is missed:

- ``StaffBackend`` (in ``AUTHENTICATION_BACKENDS`` instead of Django's ``ModelBackend``) never
  authenticates an Integration account by password and never restores one from a session, so the
  staff login form, the admin login and any session (however it was made) give it no screens.
- ``StaffAuthenticationForm`` / ``StaffAdminAuthenticationForm`` turn that refusal into a clear
  message when the password was right, instead of "wrong username or password".

API tokens do not go through these backends (crm.api.authentication), so the account's token keeps
working on the API.
"""

from __future__ import annotations

import uuid
from contextlib import suppress

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from crm.roles import INTEGRATION

INTEGRATION_SIGN_IN_REFUSED = _(
    "This is an integration account (role Integration): it connects with its API token and cannot sign "
    "in to the screens. Sign in with your own staff account."
)


def is_integration_account(user) -> bool:
    """True when ``user`` holds the Integration role (cached on the instance for the request)."""
    flag = getattr(user, "in_integration_role", None)
    if flag is None:
        flag = user.pk is not None and user.groups.filter(name=INTEGRATION).exists()
        user.in_integration_role = flag
    return flag


def _users_with_role_flag():
    user_model = get_user_model()
    membership = user_model.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=INTEGRATION)
    return user_model._default_manager.annotate(in_integration_role=Exists(membership))


class StaffBackend(ModelBackend):
    """Django's model backend, minus Integration accounts (by password and by session)."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not is_integration_account(user)

    def get_user(self, user_id):
        # One query, as Django's: the role flag is an EXISTS in the same SELECT (every signed-in page).
        try:
            user = _users_with_role_flag().get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        # Every signed-in page asks (the sidebar, the view's own rule): Django's two queries cost ~2 ms
        # a page, so the set is kept in the cache (see ``permissions_kept``). Same result as Django's.
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = permissions_kept(user_obj)
        return user_obj._perm_cache

    async def aget_user(self, user_id):
        try:
            user = await _users_with_role_flag().aget(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


# -- Permission sets kept in the cache --------------------------------------------------------------
#
# One cache read per page instead of two SQL queries. A user's entry holds the generation it was
# computed under; any change to roles, their permissions or a user's own permissions bumps the
# generation (after the commit), so every entry computed before is ignored from then on, in every
# process. A user saved (created, made superuser ...) loses their own entry. The generation is read
# BEFORE the permissions are computed, so a computation racing a change is stored under the old
# generation and thrown away at the next read. When the cache cannot be reached, the database answers.

PERMISSION_GENERATION_KEY = "auth:permissions:generation"
PERMISSION_ENTRY_TTL = 3600


def _permission_entry_key(user_id) -> str:
    return f"auth:permissions:user:{user_id}"


def _permissions_from_database(user) -> set[str]:
    permissions = Permission.objects.all()
    if not user.is_superuser:
        user_model = get_user_model()
        own = user_model.user_permissions.through.objects.filter(user_id=user.pk, permission_id=OuterRef("pk"))
        by_role = Group.permissions.through.objects.filter(
            permission_id=OuterRef("pk"),
            group__in=user_model.groups.through.objects.filter(user_id=user.pk).values("group_id"),
        )
        permissions = permissions.filter(Exists(own) | Exists(by_role))
    return {
        f"{app_label}.{codename}"
        for app_label, codename in permissions.values_list("content_type__app_label", "codename").order_by()
    }


def permissions_kept(user) -> set[str]:
    """``user``'s permissions as ``"app_label.codename"`` strings, from the cache when it is current."""
    key = _permission_entry_key(user.pk)
    try:
        found = cache.get_many([key, PERMISSION_GENERATION_KEY])
    except Exception:  # noqa: BLE001 - the cache is an accelerator here, never a reason to fail a page
        return _permissions_from_database(user)
    generation = found.get(PERMISSION_GENERATION_KEY)
    if generation is None:
        generation = uuid.uuid4().hex
        with suppress(Exception):
            if not cache.add(PERMISSION_GENERATION_KEY, generation, None):
                generation = cache.get(PERMISSION_GENERATION_KEY)
    entry = found.get(key)
    if entry is not None and entry[0] == generation and entry[1] == user.is_superuser:
        return set(entry[2])
    permissions = _permissions_from_database(user)
    if generation is not None:
        with suppress(Exception):
            cache.set(key, (generation, user.is_superuser, sorted(permissions)), PERMISSION_ENTRY_TTL)
    return permissions


def permissions_changed() -> None:
    """Make every kept permission set stale, once the current transaction commits."""

    def bump() -> None:
        with suppress(Exception):
            cache.set(PERMISSION_GENERATION_KEY, uuid.uuid4().hex, None)

    bump()
    transaction.on_commit(bump)


def user_saved(user_id) -> None:
    def forget() -> None:
        with suppress(Exception):
            cache.delete(_permission_entry_key(user_id))

    forget()
    transaction.on_commit(forget)


class _RefuseIntegration:
    """Replaces "wrong username or password" by the real reason when an Integration account signs in."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError as error:
            if getattr(error, "code", None) == "invalid_login" and self._is_integration_with_right_password():
                raise forms.ValidationError(INTEGRATION_SIGN_IN_REFUSED, code="integration_account") from None
            raise

    def _is_integration_with_right_password(self) -> bool:
        if getattr(self.request, "axes_locked_out", False):
            return False
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not username or not password:
            return False
        user = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        # Only a caller who knows the password learns the account's role.
        return bool(user and user.is_active and is_integration_account(user) and user.check_password(password))


class StaffAuthenticationForm(_RefuseIntegration, AuthenticationForm):
    pass


class StaffAdminAuthenticationForm(_RefuseIntegration, AdminAuthenticationForm):
    pass
