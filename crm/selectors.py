"""Reads of the project package: staff, roles and the figures on the home page."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Prefetch, Q, QuerySet

from crm.models import ApiToken
from crm.roles import ROLE_PERMISSIONS


def staff_list() -> QuerySet:
    """Active staff with their roles, in one query plus one for the groups."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
        .order_by("last_name", "first_name", "username")
    )


def staff_counts_by_role() -> dict[str, int]:
    """Number of active staff in each role, every role present (zero included)."""
    rows = Group.objects.filter(name__in=ROLE_PERMISSIONS).annotate(
        members=Count("user", filter=Q(user__is_active=True))
    )
    counts = dict.fromkeys(ROLE_PERMISSIONS, 0)
    counts.update({row.name: row.members for row in rows})
    return counts


def api_token_counts(*, user=None) -> dict[str, int]:
    tokens = ApiToken.objects.all() if user is None else ApiToken.objects.filter(user=user)
    return tokens.aggregate(
        active=Count("pk", filter=Q(revoked_at__isnull=True)),
        revoked=Count("pk", filter=Q(revoked_at__isnull=False)),
    )
