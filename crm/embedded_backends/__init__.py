"""Django backends for the embedded servers: they start them on their first connection, not at import.

``ENGINE = "crm.embedded_backends"`` is Django's PostgreSQL backend (``base.py``) and
``crm.embedded_backends.cache.RedisCache`` its Redis cache; both call ``crm.embedded.ensure_started``.
"""
