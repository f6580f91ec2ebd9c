"""ASGI entry point (uvicorn workers under gunicorn); server-sent events need it.

Sync views go through one thread hop instead of six: see crm/asgi_handler.py.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
django.setup(set_prefix=False)

from crm.asgi_handler import RelaisASGIHandler  # noqa: E402 - needs the apps loaded

application = RelaisASGIHandler()
