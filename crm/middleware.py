"""Attach who made a change, and through which channel, to the history rows it writes."""

from __future__ import annotations

import pghistory


class HistoryContextMiddleware:
    """Every write during a signed-in request is recorded with the user and the channel "web".

    Services may open a nested ``pghistory.context(channel=...)`` to say more (``api``, ``import``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        user = getattr(request, "user", None)
        channel = "api" if request.path.startswith("/api/") else "web"
        user_id = user.pk if user is not None and user.is_authenticated else None
        with pghistory.context(user=user_id, channel=channel, url=request.path):
            return self.get_response(request)
