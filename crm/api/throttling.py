"""Rate limits per API token (integrations) and per signed-in user (browser sessions)."""

from rest_framework.throttling import SimpleRateThrottle

from crm.models import ApiToken


class ApiTokenRateThrottle(SimpleRateThrottle):
    """Counts calls per token, so two integrations of one user do not share a budget."""

    scope = "token"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None


class SessionUserRateThrottle(SimpleRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated and not isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None
