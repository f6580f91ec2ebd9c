"""Django's Redis cache, starting the embedded servers before its first connection."""

from __future__ import annotations

from django.core.cache.backends import redis
from django.utils.functional import cached_property


class RedisCache(redis.RedisCache):
    @cached_property
    def _cache(self):
        from crm import embedded

        embedded.ensure_started()
        return self._class(self._servers, **self._options)
