"""Test settings: the base settings against real PostgreSQL and Redis, made fast and deterministic."""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "t" * 50)
os.environ.setdefault("PERSONAL_DATA_KEY", "test-personal-data-key")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from credit_portal.settings.base import *  # noqa: F403
from credit_portal.settings.base import CACHES, REDIS_URL

# Tests flush their Redis database: keep them off the one the portal uses (database 15 of the same
# server unless TEST_REDIS_URL says otherwise).
REDIS_URL = os.environ.get("TEST_REDIS_URL") or urlunsplit(urlsplit(REDIS_URL)._replace(path="/15"))
CACHES["default"]["LOCATION"] = REDIS_URL
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "en"
