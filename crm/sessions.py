"""Staff sessions: read from the cache, written through to the database, and never failing with it.

Django's ``cached_db`` backend saves the session query of every signed-in page (the database stays
the record: a session survives a cache flush). Its ``load`` and ``delete`` let a cache error through,
which would turn a Redis outage into a 500 on every page; here the cache is only an accelerator, as
for the permission sets (crm/auth.py): without it, the database answers alone.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from django.contrib.sessions.backends import cached_db, db

logger = logging.getLogger("django.contrib.sessions")


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - an unreachable cache, or a key it refuses
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        with suppress(Exception):
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def exists(self, session_key):
        with suppress(Exception):
            if self.cache_key_prefix + session_key in self._cache:
                return True
        return db.SessionStore.exists(self, session_key)

    def delete(self, session_key=None):
        db.SessionStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:  # noqa: BLE001
            logger.exception("Error deleting the session from the cache (%s)", self._cache)
