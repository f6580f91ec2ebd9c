"""Staff accounts and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "rls"


class User(AbstractUser):
    """A staff member: agent, supervisor, marketer or admin (the role is a group)."""

    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True,
        help_text=_("Language of the interface and of emails sent to this person; empty means the browser's."),
    )  # fmt: skip
    phone_extension = models.CharField(_("phone extension"), max_length=20, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        permissions = [
            ("use_agent_console", _("Can use the agent console (customers, timeline, cases)")),
            ("supervise_team", _("Can see the team, queues, SLAs and team dashboards")),
            ("use_marketing", _("Can use segments, campaigns and templates")),
            ("view_analytics", _("Can read analytics and reports")),
            ("use_api_tokens", _("Can create and revoke their own API tokens")),
            ("view_operations", _("Can see system health, metrics and scheduled jobs")),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_names(self) -> list[str]:
        return sorted(group.name for group in self.groups.all())


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A key an integration sends as ``Authorization: Token <key>``; only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("staff member"))  # fmt: skip
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. 'ERP sync'."))
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def hash_key(key: str) -> str:
        # The key carries 256 random bits, so a fast hash is enough (no dictionary to guess from).
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def generate_key() -> tuple[str, str]:
        """Return ``(key, prefix)`` for a new token; the key is shown once and never stored."""
        prefix = secrets.token_hex(4)
        return f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}", f"{TOKEN_PREFIX}_{prefix}"
