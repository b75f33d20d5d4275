"""Settings for Credit Portal.

Everything that differs between machines comes from the environment, read in one block below
(see `.env.example` for every variable). Bad values fail loudly at start-up rather than later.
"""

from __future__ import annotations

import sys
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from credit_portal.links import site_host, site_url_from_environment

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ---------------------------------------------------------------------------------------------
# The environment, in one place.
# ---------------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
# The portal's public address, scheme and host only (https://credit.example.gov.cn): every link that
# leaves the portal — the credit report's QR code, emails, the API's URLs — is made from it
# (credit_portal/links.py). Required with DEBUG off; with DEBUG on it defaults to
# http://127.0.0.1:8000, and `make run` sets the address it serves.
SITE_URL = site_url_from_environment(env.str("SITE_URL", default=""), debug=DEBUG)
# The host of SITE_URL is always allowed: the links the portal gives out lead there.
ALLOWED_HOSTS = list(
    dict.fromkeys(
        [
            *env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]),
            *filter(None, [site_host(SITE_URL)]),
        ]
    )
)
# With DJANGO_DEBUG on, only requests from these addresses get Django's technical error pages; any
# other address gets the portal's own (credit_portal/web/errors.py).
INTERNAL_IPS = env.list("INTERNAL_IPS", default=["127.0.0.1", "::1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/credit_portal")
}
# Seconds a request thread keeps its database connection (0: one per request). Behind PgBouncer in
# transaction pooling, DISABLE_SERVER_SIDE_CURSORS must be on (README, "Database connections").
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=60)
DISABLE_SERVER_SIDE_CURSORS = env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
# The role that owns the tables, for `manage.py migrate` only (which then grants the role of
# DATABASE_URL what the web and the workers need, and no more: docs/adr/0009). Unset: one role does
# both, as before, and `check --deploy` warns.
DATABASE_OWNER = env.db_url("DATABASE_OWNER_URL") if env.str("DATABASE_OWNER_URL", default="") else {}
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# How long a request waits for Redis before serving without it (seconds), and how long after a
# failure no request tries again (credit_portal/cache.py).
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
REDIS_RETRY_AFTER = env.float("REDIS_RETRY_AFTER", default=5.0)
# Key for the keyed hash and the encryption of personal identity numbers. Kept apart from SECRET_KEY
# so that rotating the session secret does not make stored identity numbers unreadable.
PERSONAL_DATA_KEY = env.str("PERSONAL_DATA_KEY", default="")
# Key of the audit chain's HMAC, kept outside the database so that whoever can rewrite the table cannot
# recompute the chain; retired keys (comma-separated) still verify the rows they signed.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
AUDIT_CHAIN_RETIRED_KEYS = env.list("AUDIT_CHAIN_RETIRED_KEYS", default=[])
# Where the chain's anchors are appended (one JSON line each), outside PostgreSQL.
AUDIT_ANCHOR_DIR = env.path("AUDIT_ANCHOR_DIR", default=BASE_DIR / ".local" / "audit-anchors")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="credit-portal@localhost")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
USE_X_FORWARDED_PROTO = env.bool("USE_X_FORWARDED_PROTO", default=False)
# How many reverse proxies in front of the portal append to X-Forwarded-For: per-client limits then
# count the address the outermost proxy saw. 0 (no proxy): the connection's own address.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
API_THROTTLE_ANON = env.str("API_THROTTLE_ANON", default="60/min")
API_THROTTLE_TOKEN = env.str("API_THROTTLE_TOKEN", default="600/min")
# Sign-in and sessions (README "Sign-in and sessions"). Failed sign-ins lock an account name after
# SIGNIN_ACCOUNT_FAILURES and a client address after SIGNIN_ADDRESS_FAILURES within
# SIGNIN_FAILURE_WINDOW seconds, for SIGNIN_LOCKOUT_SECONDS. Staff are signed out after
# STAFF_SESSION_IDLE_SECONDS without a request; every session ends STAFF_SESSION_MAX_AGE /
# ENTITY_SESSION_MAX_AGE seconds after signing in, whatever the activity.
SIGNIN_ACCOUNT_FAILURES = env.int("SIGNIN_ACCOUNT_FAILURES", default=5)
SIGNIN_ADDRESS_FAILURES = env.int("SIGNIN_ADDRESS_FAILURES", default=20)
SIGNIN_FAILURE_WINDOW = env.int("SIGNIN_FAILURE_WINDOW", default=15 * 60)
SIGNIN_LOCKOUT_SECONDS = env.int("SIGNIN_LOCKOUT_SECONDS", default=15 * 60)
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
STAFF_SESSION_MAX_AGE = env.int("STAFF_SESSION_MAX_AGE", default=12 * 3600)
ENTITY_SESSION_MAX_AGE = env.int("ENTITY_SESSION_MAX_AGE", default=7 * 24 * 3600)
# A password reset link works for this many seconds; a sign-up confirmation link for SIGNUP_CONFIRM_SECONDS.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
PASSWORD_RESET_EMAILS_PER_HOUR = env.int("PASSWORD_RESET_EMAILS_PER_HOUR", default=3)
SIGNUP_CONFIRM_SECONDS = env.int("SIGNUP_CONFIRM_SECONDS", default=3 * 24 * 3600)
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Largest file of credit records accepted for import, and how long uploaded files are kept after
# their import finished (they may hold identity numbers in clear; the records keep them encrypted).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
IMPORT_FILE_RETENTION_DAYS = env.int("IMPORT_FILE_RETENTION_DAYS", default=30)
# ---------------------------------------------------------------------------------------------

if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG is off (see .env.example).")
    SECRET_KEY = "insecure-development-key-" + "x" * 40
if not PERSONAL_DATA_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "PERSONAL_DATA_KEY must be set when DJANGO_DEBUG is off (see .env.example)."
        )
    PERSONAL_DATA_KEY = "insecure-development-personal-data-key"
for _name in (
    "SIGNIN_ACCOUNT_FAILURES",
    "SIGNIN_ADDRESS_FAILURES",
    "SIGNIN_FAILURE_WINDOW",
    "SIGNIN_LOCKOUT_SECONDS",
):
    if vars()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
if not 0 < STAFF_SESSION_IDLE_SECONDS <= STAFF_SESSION_MAX_AGE:
    raise ImproperlyConfigured(
        "STAFF_SESSION_IDLE_SECONDS must be positive and at most STAFF_SESSION_MAX_AGE."
    )
if ENTITY_SESSION_MAX_AGE < 1:
    raise ImproperlyConfigured("ENTITY_SESSION_MAX_AGE must be positive.")
if not AUDIT_CHAIN_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("AUDIT_CHAIN_KEY must be set when DJANGO_DEBUG is off (see .env.example).")
    AUDIT_CHAIN_KEY = "insecure-development-audit-chain-key"
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...).")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    # The cross-cutting core.
    "credit_portal.accounts",
    "credit_portal.audit",
    "credit_portal.workdays",
    "credit_portal.notices",
    "credit_portal.outbox",
    "credit_portal.idempotency",
    "credit_portal.web",
    # The hub and the stage apps.
    "records",
    "pledges",
    "appraisals",
    "listings",
    "punishments",
    "restoration",
    "disclosure",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # With DEBUG on, Django's technical 404/500 pages only for INTERNAL_IPS.
    "credit_portal.web.errors.InternalTechnicalPagesMiddleware",
    # A NUL in the address is refused before any view runs (404 in the path, 400 in the query).
    "credit_portal.web.errors.RefuseNullCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "credit_portal.accounts.sessions.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "credit_portal.web.headers.PermissionsPolicyMiddleware",
    # Last, so that it sees a view's exception first: a service's NotFound is the portal's 404.
    "credit_portal.web.errors.DomainErrorsMiddleware",
]

ROOT_URLCONF = "credit_portal.urls"
# Forms render through the portal's bound field: required-if notes and fieldset anchors.
FORM_RENDERER = "credit_portal.web.rendering.PortalFormRenderer"
WSGI_APPLICATION = "credit_portal.wsgi.application"

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
                "credit_portal.web.context_processors.portal",
                "credit_portal.notices.context_processors.notices",
            ],
        },
    },
]

# A connection per serving thread, kept CONN_MAX_AGE seconds: bounded under gunicorn's fixed thread
# pools (gunicorn.conf.py). Django's development server starts a thread per request instead, so
# there every connection would linger: it gets one connection per request.
if sys.argv[1:2] == ["runserver"]:
    CONN_MAX_AGE = 0
DATABASES["default"].setdefault("CONN_MAX_AGE", CONN_MAX_AGE)
DATABASES["default"].setdefault("DISABLE_SERVER_SIDE_CURSORS", DISABLE_SERVER_SIDE_CURSORS)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    # Redis, degrading to misses while it is down (public reading goes on; see credit_portal/cache.py).
    "default": {
        "BACKEND": "credit_portal.cache.DegradingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cp",
        "OPTIONS": {
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
            "retry_after": REDIS_RETRY_AFTER,
        },
    },
    # Rendered pieces of pages that are the same for every request in a language (the footer, the
    # search page's unused filters): kept in each process, no round trip. The ``{% cache %}`` tag
    # uses this alias by name.
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "template-fragments",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: the public never holds object permissions

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".local" / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".local" / "media")
MEDIA_URL = "/media/"

# Security headers. With DEBUG off these defaults make `manage.py check --deploy` clean.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if USE_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sessions: the limits are kept on the server by credit_portal.accounts.sessions, which says why a
# session ended; the cookie (and the stored session) lasts an hour longer than the longest of them.
SESSION_COOKIE_AGE = max(ENTITY_SESSION_MAX_AGE, STAFF_SESSION_MAX_AGE) + 3600
# Content-Security-Policy (django-csp): everything from the portal itself. No inline script or
# style except with the request's nonce (the Swagger UI page); the portal's own pages have none.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Browser features no page of the portal uses, refused to every page and to anything it embeds.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
    "browsing-topics": [],
}
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a decision for the operator of a domain, not for the software.
    "security.W021",
]

# A web form's one-time submission key is valid, and an API Idempotency-Key remembered, this long
# (credit_portal/idempotency/).
IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["credit_portal.accounts.api_auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["credit_portal.accounts.api_auth.HasCapability"],
    "DEFAULT_PAGINATION_CLASS": "credit_portal.api.pagination.IdCursorPagination",
    # JSON nested absurdly deep or holding lone surrogates is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": [
        "credit_portal.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["credit_portal.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_ANON, "token": API_THROTTLE_TOKEN},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "credit_portal.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Credit Portal API",
    "DESCRIPTION": (
        "Agency interface of the credit portal: push and pull credit information keyed by the unified "
        "social credit code. Authenticate with `Authorization: Bearer <token>`; tokens are issued per "
        "department with scopes."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents its error responses with the API's error body.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "credit_portal.api.schema.add_error_responses",
        "credit_portal.idempotency.api.document_replays",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RecordStatusEnum": "records.models.CreditRecord.Status",
        "EntityStatusEnum": "records.models.MarketEntity.Status",
        "ComplaintStatusEnum": "records.models.Complaint.Status",
        "ObjectionStatusEnum": "records.models.Objection.Status",
        "RecordChangeKindEnum": "records.models.RecordChange.Kind",
        "KindEnum": "records.models.Complaint.Kind",  # its name while it was the only "kind"
        "RecordProposalKindEnum": "records.models.RecordProposal.Kind",
        "RecordProposalStatusEnum": "records.models.RecordProposal.Status",
    },
}

CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool process is replaced after this many tasks, so that memory held by a long-lived renderer
# (WeasyPrint, fonts) cannot grow without bound; unset (or 0) keeps processes for ever.
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=0) or None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Results are kept only when a caller asks for them (apply_async(ignore_result=False)).
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_IGNORE_RESULT = True
# Imports and PDF rendering have queues of their own, so a big file never holds up the sweeps.
CELERY_TASK_ROUTES = {
    "records.tasks.import_file": {"queue": "imports"},
    "disclosure.tasks.render_credit_report": {"queue": "pdf"},
}
CELERY_BEAT_SCHEDULE = {
    # Tasks accepted while the broker was down wait in the outbox (credit_portal/outbox/).
    "dispatch-outbox": {
        "task": "credit_portal.outbox.tasks.dispatch_outbox",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
    "resume-stale-imports": {"task": "records.tasks.resume_stale_imports", "schedule": crontab(minute="*/5")},
    "purge-import-files": {
        "task": "records.tasks.purge_import_files",
        "schedule": crontab(hour=3, minute=10),
    },
    # Daily: the audit chain's head to the anchor store and the public page; then the whole chain is
    # checked against every anchor.
    "anchor-audit-chain": {
        "task": "credit_portal.audit.tasks.anchor_audit_chain",
        "schedule": crontab(hour=2, minute=20),
    },
    "verify-audit-chain": {
        "task": "credit_portal.audit.tasks.verify_audit_chain",
        "schedule": crontab(hour=2, minute=30),
    },
    "disclosure-sweep": {
        "task": "disclosure.tasks.sweep_disclosures",
        "schedule": crontab(minute="*/5"),
        # A run not started within its 5 minutes is dropped: the next one does the same work.
        "options": {"expires": 4 * 60},
    },
    "requeue-stale-reports": {
        "task": "disclosure.tasks.requeue_stale_reports",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 9 * 60},
    },
    # Daily: one-time form keys and API idempotency keys older than their window.
    "purge-idempotency-keys": {
        "task": "credit_portal.idempotency.tasks.purge_expired_keys",
        "schedule": crontab(hour=3, minute=40),
    },
    # Daily: flag pledges whose materials are overdue; idempotent, so a missed day is caught up.
    "pledges-overdue-sweep": {
        "task": "pledges.tasks.sweep_overdue_pledges",
        "schedule": crontab(hour=0, minute=20),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # WeasyPrint logs every layout step at INFO.
    "loggers": {"django.db.backends": {"level": "INFO"}, "weasyprint": {"level": "WARNING"}},
}
