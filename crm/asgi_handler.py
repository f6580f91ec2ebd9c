"""An ASGI handler for a monolith of sync views: one kept thread per request, one hop into it.

Django's own ASGI handler costs a sync view about 3 ms more than WSGI does (measured on /account/,
docs/benchmarks.md "request_overhead"); profiling a worker showed where:

- every request opens a ``ThreadSensitiveContext`` that starts a new thread for the request's sync
  code and joins it at the end (thread start, join, and the event loop waiting on both);
- a chain of middleware that is partly sync-only crosses between the event loop and that thread six
  times for a sync view (into the sync middleware, back to the loop for the inner async handler,
  into the thread again for the view, and back out the same way).

This handler keeps the first in check with a stack of single-thread executors reused from request to
request (each request still runs all its thread-sensitive code on one thread of its own, as Django
requires; an executor goes back on the stack only once its thread is idle), and removes the second
by keeping two middleware chains: Django's async one, for async views (the server-sent-event
streams), and the plain sync one WSGI would run, entered once for every other request. Everything
else (signals, request body, streaming, disconnects) is Django's ASGIHandler.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, iscoroutinefunction, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.urls import Resolver404, get_resolver

# Idle request threads kept per worker process; more concurrent requests than this start (and later
# stop) threads of their own, as Django's handler does for every request.
KEPT_THREADS = 32


def view_is_async(path_info: str) -> bool:
    """Whether the view ``path_info`` resolves to is async (unknown paths: no, the 404 page is sync)."""
    try:
        match = get_resolver().resolve(path_info)
    except Resolver404:
        return False
    view = match.func
    return bool(getattr(view, "view_is_async", False)) or iscoroutinefunction(view)


class _ExecutorStack:
    """Single-thread executors handed out one per request and taken back once idle."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._idle: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()

    def take(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="relais-request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        # A request cancelled mid-call (the client left) may still have its sync code running: the
        # executor is reused only after that finishes, so no request ever waits behind another.
        executor.submit(lambda: None).add_done_callback(lambda _done: self._idle_again(executor))

    def _idle_again(self, executor: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(executor)
                return
        executor.shutdown(wait=False)


class RelaisASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._sync_handler = BaseHandler()
        self._sync_handler.load_middleware(is_async=False)
        self._executors = _ExecutorStack(KEPT_THREADS)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._executors.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self._executors.give_back(executor)

    async def get_response_async(self, request):
        if view_is_async(request.path_info):
            return await super().get_response_async(request)
        return await sync_to_async(self._sync_handler.get_response, thread_sensitive=True)(request)
