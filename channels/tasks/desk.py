"""Celery tasks: desk."""
