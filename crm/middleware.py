"""Attach who made a change to the history rows it writes; end idle and over-age staff sessions."""

from __future__ import annotations

import time

import pghistory
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.translation import gettext as _

SESSION_SEEN_KEY = "relais_seen_at"
SESSION_SIGNED_IN_KEY = "relais_signed_in_at"
# The "last seen" stamp is rewritten at most this often: a session write on every request would cost
# every page an UPDATE.
SEEN_RESOLUTION_SECONDS = 60


class HistoryContextMiddleware:
    """Every write during a request is recorded with the signed-in user and the URL.

    The channel (agent, api, import, portal...) is the service's to say: each service opens a nested
    ``pghistory.context(channel=...)`` through ``customers.services.records.history_context``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        with pghistory.context(user=user_id, url=request.path):
            return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="relais_session_signed_in_at")
def _stamp_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_SIGNED_IN_KEY] = now
        request.session[SESSION_SEEN_KEY] = now


class SessionIdleTimeoutMiddleware:
    """Sign staff out after ``SESSION_IDLE_TIMEOUT_MINUTES`` without a request, and in any case
    ``SESSION_MAX_AGE_HOURS`` after they signed in (Django's own expiry slides with every session write).

    Any request of the session counts as activity, background refreshes of an open page included.
    API tokens carry no session and are not concerned.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            self._check(request)
        return self.get_response(request)

    @staticmethod
    def _check(request) -> None:
        session = request.session
        now = int(time.time())
        seen = session.get(SESSION_SEEN_KEY)
        signed_in = session.get(SESSION_SIGNED_IN_KEY)
        idle_limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
        if seen is not None and now - seen > idle_limit:
            logout(request)
            messages.info(
                request,
                _("You were signed out after %(minutes)s minutes without activity. Sign in again to go on.")
                % {"minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES},
            )
            return
        if signed_in is not None and now - signed_in > settings.SESSION_COOKIE_AGE:
            logout(request)
            messages.info(request, _("Your session has ended: sign in again to go on."))
            return
        if signed_in is None:
            session[SESSION_SIGNED_IN_KEY] = now
        if seen is None or now - seen >= SEEN_RESOLUTION_SECONDS:
            session[SESSION_SEEN_KEY] = now
