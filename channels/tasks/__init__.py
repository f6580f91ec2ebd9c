"""Celery tasks of the channels app (thin: each calls one service). Celery autodiscovers this package;
each topic module registers its tasks when imported below."""

from channels.tasks import (
    desk,  # noqa: F401
    email,  # noqa: F401
    postal,  # noqa: F401
    web,  # noqa: F401
)
