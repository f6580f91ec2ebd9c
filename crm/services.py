"""Writes of the project package: API tokens (the one write path for the page, the API and the admin)."""

from __future__ import annotations

import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from crm.models import ApiToken

logger = logging.getLogger("relais.tokens")

# Who may manage other people's tokens (the Admin role; superusers hold every permission).
MANAGE_ANY_TOKEN_PERMISSION = "crm.change_apitoken"
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length


def _may_manage_any_token(user: AbstractBaseUser) -> bool:
    return user.is_active and user.has_perm(MANAGE_ANY_TOKEN_PERMISSION)


def api_token_get_for_user(*, user: AbstractBaseUser, pk: int) -> ApiToken:
    """Return the token ``pk`` if ``user`` may manage it: their own, or any token for an admin.

    Raises ``Http404`` for a token that does not exist *and* for someone else's token, so a
    teammate cannot even learn that the id exists.
    """
    tokens = ApiToken.objects.select_related("user")
    if not _may_manage_any_token(user):
        tokens = tokens.filter(user=user)
    try:
        return tokens.get(pk=pk)
    except ApiToken.DoesNotExist:
        raise Http404(_("No such API token.")) from None


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser, name: str, acting_user: AbstractBaseUser) -> tuple[ApiToken, str]:
    """Create a token that authenticates as ``user`` and return ``(token, key)``.

    The key is returned here and nowhere else: only its SHA-256 and a short prefix (to recognise it
    in lists) are stored, so the caller must show it once and forget it. ``acting_user`` is the owner,
    or an admin creating a token for someone (the Django admin). Raises ``ApplicationError`` on an
    empty or too long name, ``PermissionDenied`` when ``acting_user`` may not create it.
    """
    if acting_user.pk != user.pk and not _may_manage_any_token(acting_user):
        raise PermissionDenied
    if not user.is_active:
        raise ApplicationError("inactive_user", _("An inactive staff member cannot hold API tokens."), field="user")
    name = (name or "").strip()
    if not name:
        raise ApplicationError("required", _("Give the token a name, e.g. 'ERP sync'."), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise ApplicationError(
            "max_length",
            _("The name can have at most %(limit)d characters.") % {"limit": NAME_MAX_LENGTH},
            field="name",
        )
    key, prefix = ApiToken.generate_key()
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=ApiToken.hash_key(key))
    # No audit table exists yet; the structured log is the trail (after commit, so a rollback logs nothing).
    transaction.on_commit(
        lambda: logger.info(
            "api_token_created",
            extra={"token_id": token.pk, "prefix": prefix, "owner_id": user.pk, "acting_user_id": acting_user.pk},
        )
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, acting_user: AbstractBaseUser) -> ApiToken:
    """Revoke ``token`` now: the next request that sends its key gets a 401. Returns the token.

    Idempotent: revoking a revoked token keeps its first ``revoked_at``. The owner may revoke their
    own token, an admin anyone's; anyone else gets ``PermissionDenied`` (views fetch the token with
    ``api_token_get_for_user`` first, so they answer 404 before reaching this check).
    """
    if token.user_id != acting_user.pk and not _may_manage_any_token(acting_user):
        raise PermissionDenied
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        transaction.on_commit(
            lambda: logger.info(
                "api_token_revoked",
                extra={"token_id": locked.pk, "owner_id": locked.user_id, "acting_user_id": acting_user.pk},
            )
        )
    token.revoked_at = locked.revoked_at
    return token
