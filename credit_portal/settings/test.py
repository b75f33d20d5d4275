"""Test settings: the base settings against real PostgreSQL and Redis, made fast and deterministic."""

import os

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "t" * 50)
os.environ.setdefault("PERSONAL_DATA_KEY", "test-personal-data-key")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from credit_portal.settings import *  # noqa: F403
from credit_portal.settings import CACHES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each test run gets its own key prefix so that throttling counters never leak between runs.
CACHES["default"]["KEY_PREFIX"] = f"cp-test-{os.getpid()}"
CELERY_BROKER_URL = REDIS_URL
LANGUAGE_CODE = "en"
