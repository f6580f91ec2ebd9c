"""Attach who made a change, and through which channel, to the history rows it writes."""

from __future__ import annotations

import pghistory


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
