"""Celery tasks of the campaigns app (thin: each calls one service). Celery autodiscovers this package;
each area's module registers its tasks when imported below."""

from campaigns.tasks import dispatch, segments, sweeper  # noqa: F401
