"""Settings for the test suite: the same as production-like settings, plus isolation from ``make run``.

Tests use their own Redis databases on the embedded Redis, so a running ``make run`` worker never
takes a test's task, and Celery runs tasks in-process unless a test starts a real worker.
"""

import os

from crm.envparse import celery_urls_from_redis_url
from crm.settings import *  # noqa: F403
from crm.settings import CACHES, _embedded

_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
if _embedded is not None and not os.environ.get("REDIS_URL"):
    # One Redis database per xdist worker (1 without xdist; 0 is make run's, 2 the benchmarks'), so
    # Redis state such as beat's heartbeat key is never shared between tests running at once.
    _db = 1 if _worker == "main" else 3 + int(_worker.removeprefix("gw")) % 13
    REDIS_URL = _embedded.redis_url(db=_db)
    CACHES["default"]["LOCATION"] = REDIS_URL
    CELERY_BROKER_URL, CELERY_RESULT_BACKEND = celery_urls_from_redis_url(REDIS_URL)

CACHES["default"]["KEY_PREFIX"] = f"relais-test-{_worker}"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
WHITENOISE_AUTOREFRESH = True
# Messages outside a request (services, tasks) use LANGUAGE_CODE; tests read them in English.
LANGUAGE_CODE = "en"
