"""The one origin check of Relais's public browser endpoints: the widget (chat, call-back) and web events.

Which page is a request coming from, and may that page use a site's key? The evidence, strongest first:

1. the ``Origin`` header (``null`` — a sandboxed frame, a file — is refused);
2. ``Sec-Fetch-Site: same-origin`` (or ``none``, a navigation the user typed): the browser says no other
   page is involved. A same-origin ``EventSource`` or ``GET`` sends no ``Origin`` (the demo shop);
3. the ``Referer``'s origin, when the browser sent no ``Origin`` (older browsers, plain http);
4. a browser that says the request is cross-site (``Sec-Fetch-Site``) but hides where from is refused.

A page is allowed when it is Relais's own origin (compared by host and port: behind a TLS proxy the
request's scheme is not to be trusted) or listed in the site's allowed origins (case and a trailing slash
ignored). A request with no browser evidence at all comes from a server: the web events API accepts it
(documented, servers post events), the widget does not (only browsers use it). Headers are forgeable
outside a browser, so this protects visitors' browsers from foreign pages; it is not authentication.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import DisallowedHost

from channels.models import Site

SAME_ORIGIN_FETCH_SITES = frozenset({"same-origin", "none"})


def origin_normalise(value: str | None) -> str | None:
    """``scheme://host[:port]`` in lower case, or None for anything that is not an http(s) origin."""
    if not value or not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
        hostname = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def request_page_origin(request) -> tuple[str | None, bool]:
    """(the origin of the page that made ``request`` or None, whether a browser said anything about it).

    The origin is ``"self"`` when the browser says the request is same-origin without naming it.
    """
    headers = request.headers
    origin = headers.get("Origin")
    if origin is not None:
        return origin_normalise(origin), True
    fetch_site = (headers.get("Sec-Fetch-Site") or "").strip().lower()
    if fetch_site in SAME_ORIGIN_FETCH_SITES:
        return "self", True
    referer = headers.get("Referer")
    if referer:
        return origin_normalise(referer), True
    return None, bool(fetch_site)


def _is_own(origin: str, request) -> bool:
    if origin == "self":
        return True
    try:
        host = request.get_host().lower()
    except DisallowedHost:  # not one of our hosts, so not our origin
        return False
    return urlsplit(origin).netloc == host


def _site_lists(site: Site, origin: str) -> bool:
    return origin in {origin_normalise(allowed) for allowed in site.origins}


def request_origin_allowed(request, *, site: Site | None, servers_allowed: bool) -> bool:
    """May the page behind ``request`` use ``site``'s key? ``site`` None: any active site's (a CORS
    preflight of the web events API names no site). ``servers_allowed``: accept a request that carries no
    browser evidence at all (see the module docstring)."""
    origin, from_browser = request_page_origin(request)
    if not from_browser:
        return servers_allowed
    if origin is None:
        return False
    if _is_own(origin, request):
        return True
    if site is not None:
        return _site_lists(site, origin)
    listed = Site.objects.filter(is_active=True).exclude(allowed_origins="").values_list("allowed_origins", flat=True)
    return any(origin in {origin_normalise(line) for line in lines.splitlines()} for lines in listed)


def cors_origin(request, *, site: Site | None) -> str | None:
    """The value for ``Access-Control-Allow-Origin``: the request's ``Origin`` header when that page is
    allowed for ``site`` (None: any active site), else None (no CORS header is sent)."""
    origin = origin_normalise(request.headers.get("Origin"))
    if origin is None or not request_origin_allowed(request, site=site, servers_allowed=False):
        return None
    return request.headers["Origin"].strip().rstrip("/")
