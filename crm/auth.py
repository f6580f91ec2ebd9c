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

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
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

    async def aget_user(self, user_id):
        try:
            user = await _users_with_role_flag().aget(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


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
