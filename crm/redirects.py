"""Where a "next" parameter may send the browser: back into Relais only, decided by Django's own check."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest, *, field: str = "next") -> str | None:
    """The ``next`` of the form (or the query string) if it stays on this site, else None.

    ``url_has_allowed_host_and_scheme`` refuses what a hand-written ``startswith("/")`` lets through:
    ``/\\evil.example/`` and ``/\\/evil.example`` (browsers read the backslash as a slash, so both leave
    the site), ``//evil.example``, ``https://evil.example``, ``javascript:`` and control characters.
    """
    target = request.POST.get(field) or request.GET.get(field) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def redirect_next(request: HttpRequest, fallback, *args, **kwargs) -> HttpResponseRedirect:
    """Redirect to the safe ``next`` if there is one, else to ``fallback`` (a URL, a view name or a model)."""
    target = next_url(request)
    return redirect(target) if target else redirect(fallback, *args, **kwargs)
