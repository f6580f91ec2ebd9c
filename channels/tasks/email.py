"""Celery tasks: email."""
