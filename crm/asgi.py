"""ASGI entry point (uvicorn workers under gunicorn); server-sent events need it."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
application = get_asgi_application()
