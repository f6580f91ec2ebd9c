"""The Relais project package: settings, URLs, the Celery app, staff accounts, roles and the API base."""

from crm.celery import app as celery_app

__all__ = ["celery_app"]
