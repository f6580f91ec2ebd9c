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


# -- Content-Security-Policy ------------------------------------------------------------------------

CSP_DIRECTIVES = {
    "default-src": ["'self'"],
    # Our own static files only (htmx, its SSE extension, Bootstrap, relais.js); an inline script runs
    # only with this response's nonce, and nothing is ever eval'd (no hx-on, no js: values).
    "script-src": ["'self'", "'nonce-{nonce}'"],
    # Bootstrap's components and htmx's indicator set styles from JS and a few templates use style
    # attributes: styles cannot run code, so inline styles stay allowed.
    "style-src": ["'self'", "'unsafe-inline'"],
    # Inbound email images are blocked by the sanitiser; a page where an agent showed them for one
    # message adds https: (csp_allow_images).
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}


def csp_allow_images(response, *sources: str):
    """Let this one response load images from ``sources`` too (``"https:"`` when an agent chose to
    show a message's remote images); every other page keeps ``img-src 'self' data:``."""
    response.csp_img_src = [*getattr(response, "csp_img_src", []), *sources]
    return response


class ContentSecurityPolicyMiddleware:
    """A ``Content-Security-Policy`` header on every response (staff, auth, portal, API docs, admin).

    ``request.csp_nonce`` (and ``csp_nonce`` in templates, which django-htmx's ``htmx_script`` reads)
    is a fresh random value per request for the rare inline ``<script nonce>``. The widget's endpoints
    are embedded by other sites through a script those sites load; the policy of our pages does not
    apply there, and frame-ancestors 'none' forbids framing Relais's own pages (clickjacking).
    """

    header = "Content-Security-Policy"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import secrets

        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if self.header not in response:
            response[self.header] = csp_header(request.csp_nonce, img_src=getattr(response, "csp_img_src", []))
        return response


def csp_header(nonce: str, *, img_src=()) -> str:
    parts = []
    for directive, sources in CSP_DIRECTIVES.items():
        values = [source.format(nonce=nonce) for source in sources]
        if directive == "img-src":
            values += [source for source in img_src if source not in values]
        parts.append(f"{directive} {' '.join(values)}")
    return "; ".join(parts)


def csp_nonce(request) -> dict:
    """Context processor: ``csp_nonce`` for ``<script nonce="{{ csp_nonce }}">`` and django-htmx."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
