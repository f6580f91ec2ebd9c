"""Rate limits per API token (integrations) and per signed-in user (browser sessions).

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (scopes ``token`` and ``user``, set by
``API_TOKEN_RATE`` and ``API_USER_RATE``). Counters live in the default (Redis) cache, so every web
process shares them. A throttled call gets 429 in the API's error format with ``Retry-After``.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from crm.models import ApiToken


class _SettingsRateThrottle(SimpleRateThrottle):
    @property
    def THROTTLE_RATES(self):  # noqa: N802 (DRF's name)
        # DRF copies the rates into a class attribute at import time; reading them per request lets a
        # changed setting (and override_settings in tests) take effect.
        return api_settings.DEFAULT_THROTTLE_RATES


class ApiTokenRateThrottle(_SettingsRateThrottle):
    """Counts calls per token, so two integrations of one user do not share a budget."""

    scope = "token"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None


class SessionUserRateThrottle(_SettingsRateThrottle):
    """Counts a signed-in browser's calls per user (token calls are counted per token instead)."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated and not isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None
