"""Relais settings, read from the environment (see the configuration table in README.md).

One module serves development, production and the worker processes; ``crm.settings.test`` only adds
what the test suite needs. A bad value fails at start-up with the variable's name, never later.
"""

from __future__ import annotations

import datetime
import secrets
import warnings
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from crm.envparse import (
    celery_urls_from_redis_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
env = environ.Env()

DEBUG = env_bool("DEBUG", default=True)

# -- Embedded services (zero-config default) ---------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL", default="")
REDIS_URL = env_str("REDIS_URL", default="")
_embedded = None
if not DATABASE_URL or not REDIS_URL:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from crm import embedded

    # Where they will answer; nothing starts here. The first database or cache connection starts them
    # (crm.embedded_backends), and so do Celery's worker and beat, so `manage.py check` starts nothing.
    _embedded = embedded.planned_endpoints()
    embedded.start_with_celery()
    VAR_DIR = embedded.var_dir()
else:
    VAR_DIR = Path(env_str("RELAIS_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()

REDIS_DB = env_int("RELAIS_REDIS_DB", default=0)
if not REDIS_URL:
    REDIS_URL = _embedded.redis_url(db=REDIS_DB)

# -- Core --------------------------------------------------------------------------------------


# Values that appear in examples and tutorials: a key anyone can read signs nothing.
KNOWN_SECRET_KEYS = {"secret", "secretkey", "secret-key", "changeme", "change-me", "your-secret-key", "django"}
SECRET_KEY_HINT = "50+ random characters, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_weakness(key: str) -> str:
    """Why ``key`` is too weak to sign sessions in production, or "" when it is fine."""
    lowered = key.lower()
    squeezed = lowered.replace("-", "").replace("_", "")
    if lowered in KNOWN_SECRET_KEYS or lowered.startswith("django-insecure") or "changeme" in squeezed:
        return "it is a well-known example value"
    if len(key) < 50:
        return f"it has {len(key)} characters"
    if len(set(key)) < 16:
        return f"it uses only {len(set(key))} different characters"
    return ""


def _secret_key() -> str:
    key = env_str("SECRET_KEY", default="")
    if key:
        if not DEBUG and (weakness := secret_key_weakness(key)):
            raise ImproperlyConfigured(
                f"SECRET_KEY is too weak for production mode ({weakness}): use {SECRET_KEY_HINT}."
            )
        return key
    if not DEBUG:
        raise ImproperlyConfigured(f"SECRET_KEY must be set when DEBUG is off ({SECRET_KEY_HINT}).")
    keyfile = VAR_DIR / "secret_key"
    if not keyfile.exists():
        keyfile.parent.mkdir(parents=True, exist_ok=True)
        keyfile.write_text(secrets.token_urlsafe(50))
        keyfile.chmod(0o600)
    return keyfile.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "heroicons",
    "bootstrap",
    "axes",
    "django_celery_beat",
    "django_prometheus",
    "pgtrigger",
    "pghistory",
    # Relais
    "crm",
    "customers",
    "channels",
    "campaigns",
    "selfcare",
    "analytics",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "crm.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "crm.input_guard.InputGuardMiddleware",  # NUL and control characters refused, before any view
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crm.middleware.SessionIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "crm.middleware.HistoryContextMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"
AUTH_USER_MODEL = "crm.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# No LOGOUT_REDIRECT_URL: signing out shows a page that says so, with a link to sign in again.

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.navigation",
                "crm.middleware.csp_nonce",
            ],
        },
    }
]

# -- Database ----------------------------------------------------------------------------------

if DATABASE_URL:
    try:
        DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    except Exception as exc:  # django-environ raises several kinds on a malformed URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
    # A unix-socket folder may be given percent-encoded as the host (postgres://%2Frun%2Fpostgresql/db).
    DATABASES["default"]["HOST"] = unquote(DATABASES["default"]["HOST"])
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_URL must point to PostgreSQL (postgres://...); Relais needs PostgreSQL 15+."
        )
else:
    DATABASES = {"default": {**_embedded.database_settings(), "ENGINE": "crm.embedded_backends"}}
# Under ASGI, Django's persistent connections are not reused between requests (each request's sync
# code may run on another thread), so the web process opens a connection per request unless it uses
# psycopg's pool. The Procfile turns the pool on for the web process only: Celery's prefork workers
# must not inherit pooled sockets across fork.
if env_bool("DATABASE_POOL", default=False):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", default=2),
        "max_size": env_int("DATABASE_POOL_MAX", default=10),
        # A request that finds no free connection within this many seconds answers 503 + Retry-After
        # (crm.views.errors.server_error), never a 500.
        "timeout": env_float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- Cache (Redis) -----------------------------------------------------------------------------

CACHES = {
    "default": {
        "BACKEND": "crm.embedded_backends.cache.RedisCache"
        if _embedded is not None and not env_str("REDIS_URL", default="")
        else "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", default="relais"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# -- Auth --------------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "crm.auth.StaffBackend",  # Django's ModelBackend minus Integration accounts (API tokens only)
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# -- Internationalisation ----------------------------------------------------------------------

LANGUAGE_CODE = env_str("LANGUAGE_CODE", default="fr")
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English is British in Relais (day-first dates): crm/formats/en/formats.py.
FORMAT_MODULE_PATH = ["crm.formats"]
TIME_ZONE = env_str("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", default="EUR")

# -- Static files ------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# -- Email -------------------------------------------------------------------------------------

EMAIL_URL = env_str("EMAIL_URL", default="consolemail://")
try:
    vars().update(env.email_url_config(EMAIL_URL))
except Exception as exc:
    raise ImproperlyConfigured(
        f"EMAIL_URL is not a valid email URL (smtp://, smtp+tls://, consolemail://): {exc}"
    ) from exc
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="Relais <relais@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10
# Inbound email (channels email area): larger messages are refused, larger attachments dropped (message kept).
EMAIL_INBOUND_MAX_BYTES = env_int("EMAIL_INBOUND_MAX_BYTES", default=25 * 1024 * 1024)
EMAIL_ATTACHMENT_MAX_BYTES = env_int("EMAIL_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

# -- Security (production mode when DEBUG is off) ----------------------------------------------

SESSION_COOKIE_HTTPONLY = True
# Read from the cache, written through to the database (crm/sessions.py); pages work without the cache.
SESSION_ENGINE = "crm.sessions"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; keep Django's default
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Sessions end after this long without a request (crm.middleware.SessionIdleTimeoutMiddleware), and
# in any case this long after signing in, however active the user is.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_COOKIE_AGE = env_int("SESSION_MAX_AGE_HOURS", default=12) * 3600
if SESSION_IDLE_TIMEOUT_MINUTES < 1 or SESSION_COOKIE_AGE < 3600:
    raise ImproperlyConfigured("SESSION_IDLE_TIMEOUT_MINUTES must be 1 or more, SESSION_MAX_AGE_HOURS 1 or more.")
# request.is_secure() believes X-Forwarded-Proto only from a proxy said to be there: anyone else could
# send the header and pass for HTTPS.
TRUST_X_FORWARDED_PROTO = env_bool("TRUST_X_FORWARDED_PROTO", default=False)
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
# Production mode on loopback hosts only (`make run`): plain HTTP on this machine, so no redirect to
# HTTPS, no HSTS (it would stick to localhost for every other local server) and no Secure-only cookies.
LOOPBACK_ONLY = bool(ALLOWED_HOSTS) and set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not LOOPBACK_ONLY)
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SESSION_COOKIE_SECURE = not LOOPBACK_ONLY
    CSRF_COOKIE_SECURE = not LOOPBACK_ONLY
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if LOOPBACK_ONLY else 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names).")

# -- REST API ----------------------------------------------------------------------------------

# Bodies (JSON, forms) larger than this answer 413 `too_large` (a bulk of 5,000 records fits); file
# uploads are not counted. More fields or files than Django's defaults (1,000 and 100) answer `too_many`.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_BODY_MB", default=10) * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.api.throttling.ApiTokenRateThrottle",
        "crm.api.throttling.SessionUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("API_TOKEN_RATE", default="6000/min"),
        "user": env_str("API_USER_RATE", default="3000/min"),
        "web_events": env_str("WEB_EVENTS_RATE", default="6000/min"),  # per site key (channels.api.web)
        "widget": env_str("WIDGET_RATE", default="120/min"),  # per visitor IP and site (channels.api.chat)
    },
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "crm.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",  # checked by crm.input_guard.InputGuardMiddleware
        "crm.api.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Relais API",
    "DESCRIPTION": "The Relais multichannel CRM REST API. Errors share one format: see the `Error` schema.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
    # Choice sets that share a field name get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "customers.choices.CustomerKind",
        "ContactKindEnum": "customers.choices.ContactKind",
        "ConsentStatusEnum": "customers.choices.ConsentStatus",
        "OrderStatusEnum": "customers.models.backoffice.Order.Status",
        "ContractStatusEnum": "customers.models.backoffice.Contract.Status",
        "InvoiceStatusEnum": "customers.models.backoffice.Invoice.Status",
        "ConsentChannelEnum": "customers.choices.Channel",
        "InteractionChannelEnum": "channels.choices.InteractionChannel",
        "InteractionKindEnum": "channels.choices.InteractionKind",
        "CaseStatusEnum": "channels.choices.CaseStatus",
        "CasePriorityEnum": "channels.choices.CasePriority",
        "CaseCategoryEnum": "channels.choices.CaseCategory",
    },
}

# -- Celery ------------------------------------------------------------------------------------

CELERY_BROKER_URL, CELERY_RESULT_BACKEND = celery_urls_from_redis_url(REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_DEFAULT_QUEUE = "default"

CELERY_TASK_ROUTES = {
    "customers.import_*": {"queue": "imports"},
    "campaigns.segment_*": {"queue": "segments"},
    "campaigns.send_*": {"queue": "sends"},
    "channels.send_*": {"queue": "sends"},
    "analytics.*": {"queue": "analytics"},
    "*.webhook_*": {"queue": "webhooks"},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "crm.beat.RelaisDatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
BEAT_STALE_AFTER_SECONDS = env_int("BEAT_STALE_AFTER_SECONDS", default=120)
HEALTH_WORKER_TIMEOUT_SECONDS = env_int("HEALTH_WORKER_TIMEOUT_SECONDS", default=5)

# -- Operations --------------------------------------------------------------------------------

METRICS_TOKEN = env_str("METRICS_TOKEN", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False
LOG_FORMAT = env_str("LOG_FORMAT", default="console" if DEBUG else "json")
LOG_LEVEL = env_str("LOG_LEVEL", default="INFO")
if LOG_FORMAT not in {"console", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'console' or 'json', not {LOG_FORMAT!r}.")

from crm.logging import logging_config  # noqa: E402

LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL)
DJANGO_STRUCTLOG_CELERY_ENABLED = False

DEMO_PASSWORD = env_str("DEMO_PASSWORD", default="relais-demo")

# -- Customer record: imports and personal data -------------------------------------------------

# Prospects with no contact for this many years are flagged (CNIL recommends 3 years for prospects).
RETENTION_PROSPECT_YEARS = env_int("RETENTION_PROSPECT_YEARS", default=3)
# When true, the nightly retention job also anonymises the prospects it flags (irreversible).
RETENTION_AUTO_ANONYMISE = env_bool("RETENTION_AUTO_ANONYMISE", default=False)
IMPORT_MAX_FILE_MB = env_int("IMPORT_MAX_FILE_MB", default=200)
# An import job's lease: a worker renews it while it runs; once expired, the sweeper queues the job again.
IMPORT_LEASE_SECONDS = env_int("IMPORT_LEASE_SECONDS", default=300)

# -- Channels: service desk ---------------------------------------------------------------------

# How long after a case is resolved its satisfaction survey goes out (measured after the experience).
CSAT_SURVEY_DELAY = datetime.timedelta(hours=env_int("CSAT_SURVEY_DELAY_HOURS", default=48))

# -- Channels: SMS -------------------------------------------------------------------------------

# "console" keeps messages in Redis for the demo; "http" posts them to a generic JSON SMS API.
SMS_PROVIDER = env_str("SMS_PROVIDER", default="console")
if SMS_PROVIDER not in {"console", "http"}:
    raise ImproperlyConfigured(f"SMS_PROVIDER must be 'console' or 'http', not {SMS_PROVIDER!r}.")
SMS_HTTP_URL = env_str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env_str("SMS_HTTP_TOKEN", default="")
if SMS_PROVIDER == "http" and not (SMS_HTTP_URL.startswith(("http://", "https://")) and SMS_HTTP_TOKEN):
    raise ImproperlyConfigured("SMS_PROVIDER=http needs SMS_HTTP_URL (http:// or https://) and SMS_HTTP_TOKEN.")
SMS_HTTP_TIMEOUT_SECONDS = env_int("SMS_HTTP_TIMEOUT_SECONDS", default=10)
# True when the provider honours the Idempotency-Key header: timeouts and 5xx may then be retried.
SMS_HTTP_IDEMPOTENT = env_bool("SMS_HTTP_IDEMPOTENT", default=False)
SMS_SENDER = env_str("SMS_SENDER", default="RELAIS")
# Inbound and status webhooks must carry this token (header X-Relais-Webhook-Token); empty refuses them all.
SMS_WEBHOOK_TOKEN = env_str("SMS_WEBHOOK_TOKEN", default="")

# -- Channels: calls (computer-telephony integration) ---------------------------------------------

# Shared secret of the telephony system's call-event webhook (HMAC-SHA256); empty refuses every event.
CTI_SHARED_SECRET = env_str("CTI_SHARED_SECRET", default="")
if CTI_SHARED_SECRET and len(CTI_SHARED_SECRET) < 32:
    raise ImproperlyConfigured("CTI_SHARED_SECRET must be at least 32 characters (e.g. openssl rand -hex 32).")
# How far a call event's X-Relais-Timestamp may be from now, in seconds (replay window).
CTI_MAX_SKEW_SECONDS = env_int("CTI_MAX_SKEW_SECONDS", default=300)

# -- Campaigns: the outbox ------------------------------------------------------------------------

# A dispatch worker's claim on a batch lasts this long without progress; the sweeper then takes it back.
CAMPAIGNS_LEASE_SECONDS = env_int("CAMPAIGNS_LEASE_SECONDS", default=120)
CAMPAIGNS_BATCH_SIZE = env_int("CAMPAIGNS_BATCH_SIZE", default=200)
# Optional: an HTTP endpoint of the mail relay answering whether a Message-ID was accepted
# (GET URL?message_id=<id> -> {"found": true|false}). Without it, a message whose handover was cut
# by a crash is marked "not confirmed" instead of being resent (at most once).
CAMPAIGNS_SMTP_LOOKUP_URL = env_str("CAMPAIGNS_SMTP_LOOKUP_URL", default="")
# Shared secret of the bounce / complaint webhook (HMAC-SHA256, as the call events); empty refuses them.
CAMPAIGNS_WEBHOOK_SECRET = env_str("CAMPAIGNS_WEBHOOK_SECRET", default="")
