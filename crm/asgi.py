"""ASGI entry point (uvicorn workers under gunicorn); server-sent events need it.

Sync views go through one thread hop instead of six: see crm/asgi_handler.py.
"""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
django.setup(set_prefix=False)

from crm.asgi_handler import RelaisASGIHandler  # noqa: E402 - needs the apps loaded

application = RelaisASGIHandler()

# Everything loaded so far (Django, the apps, the URL map, templates compiled on import) lives as long
# as the process: keep it out of the garbage collector's full passes, which otherwise walk it all and
# show up as the slowest requests (the p95 of a signed-in page, docs/benchmarks.md).
gc.collect()
gc.freeze()
# A page allocates tens of thousands of short-lived objects (template nodes' output, model rows): at
# Python's default of a young collection every 700 allocations, collections run many times per page.
gc.set_threshold(50_000, 20, 20)
