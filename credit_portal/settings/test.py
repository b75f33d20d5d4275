"""Test settings: the base settings against real PostgreSQL and Redis, made fast and deterministic."""

import atexit
import os
import shutil
import tempfile
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "t" * 50)
os.environ.setdefault("PERSONAL_DATA_KEY", "test-personal-data-key")
os.environ.setdefault("AUDIT_CHAIN_KEY", "test-audit-chain-key")
# The suite runs as the role that creates the test database; tests/test_audit_tamper.py makes a
# runtime role of its own. The anchor store is a fresh directory per test process (tests that anchor
# point it at their own tmp_path).
os.environ["DATABASE_OWNER_URL"] = ""
if "AUDIT_ANCHOR_DIR" not in os.environ:
    os.environ["AUDIT_ANCHOR_DIR"] = tempfile.mkdtemp(prefix="cp-test-audit-anchors-")
    atexit.register(shutil.rmtree, os.environ["AUDIT_ANCHOR_DIR"], ignore_errors=True)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Every absolute link the tests see is at this address, whatever the machine's environment says.
os.environ["SITE_URL"] = "https://credit.example.gov.cn"

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
