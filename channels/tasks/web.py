"""Celery tasks: web."""
