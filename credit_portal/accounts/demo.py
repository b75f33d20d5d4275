"""The published demo accounts, and the refusal to run production settings while one of them can
still sign in with the published password.

``manage.py seed_demo`` creates these accounts with ``DEMO_PASSWORD``, which the README and the
`make run` banner print. Anyone can read it, so a portal with ``DJANGO_DEBUG`` off must not start
while such an account exists: the deployment check ``accounts.E001`` (``manage.py check --deploy
--database default``) reports it, and the web server (``credit_portal.wsgi``, once in gunicorn's
master), the Celery worker and beat (``credit_portal.celery``) refuse to start on it.

Passwords are compared with Django's hashers (``check_password``), never as text, and without the
hash-upgrade setter, so checking writes nothing."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, ProgrammingError, connections

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - the published demo password; refused in production
# Every account seed_demo (and the stage apps' seed_<app>_demo commands) creates.
DEMO_USERNAMES = (
    "admin",
    "credit_office",
    "sz_admin",
    "sz_reviewer",
    "sz_clerk",
    "gz_clerk",
    "demo_company",
    "demo_applicant",
)
# Set once a process has checked: gunicorn's workers, forked from the master that checked, skip it.
_checked = False


def demo_accounts_with_demo_password(using: str = "default") -> list[str]:
    """Usernames of the accounts that sign in with the published demo password: the demo accounts
    and every superuser (an operator may have given the demo password to one of their own)."""
    from django.db.models import Q

    from credit_portal.accounts.models import User

    candidates = (
        User.objects.using(using)
        .filter(Q(username__in=DEMO_USERNAMES) | Q(is_superuser=True))
        .order_by("username")
        .values_list("username", "password")
    )
    return [
        username for username, encoded in candidates if encoded and check_password(DEMO_PASSWORD, encoded)
    ]


def refusal_message(usernames: list[str]) -> str:
    return (
        f"Production settings (DJANGO_DEBUG off) refuse to start: {', '.join(usernames)} "
        f"{'signs' if len(usernames) == 1 else 'sign'} in with the published demo password. Demo data "
        "belongs in a development database only. Give each a new password "
        "(`python manage.py changepassword USERNAME`) or delete it, then start again."
    )


def refuse_demo_accounts_in_production(*, wait_for_database: float = 30.0) -> None:
    """With DEBUG off, raise ImproperlyConfigured when a demo account signs in with the demo
    password. Called once when a server process starts. A database that does not answer yet is
    waited for (up to ``wait_for_database`` seconds), then the start fails too: a portal whose
    accounts could not be checked does not start."""
    global _checked
    if settings.DEBUG or _checked:
        return
    deadline = time.monotonic() + wait_for_database
    while True:
        try:
            found = demo_accounts_with_demo_password()
            break
        except OperationalError as exc:
            if time.monotonic() >= deadline:
                raise ImproperlyConfigured(
                    f"Could not check for demo accounts: the database does not answer ({exc})".strip()
                ) from exc
            logger.warning("waiting for the database to check for demo accounts: %s", exc)
            time.sleep(1.0)
        finally:
            # Opened outside any request: not to be kept for the life of the process (nor handed to
            # the workers gunicorn forks). One inside a transaction is its owner's to close.
            for conn in connections.all(initialized_only=True):
                if not conn.in_atomic_block:
                    conn.close()
    if found:
        raise ImproperlyConfigured(refusal_message(found))
    _checked = True


def check_demo_accounts(app_configs=None, databases=None, **kwargs):
    """Deployment check ``accounts.E001``: run by ``manage.py check --deploy --database default``
    (a check that reads the database runs only for the databases named)."""
    from django.core.checks import Error

    if settings.DEBUG or not databases:
        return []
    errors = []
    for alias in databases:
        try:
            found = demo_accounts_with_demo_password(using=alias)
        except ProgrammingError:
            continue  # not migrated yet: there are no accounts
        except OperationalError as exc:
            errors.append(
                Error(
                    f"Could not check for demo accounts: the database does not answer ({exc})".strip(),
                    id="accounts.E002",
                )
            )
            continue
        if found:
            errors.append(
                Error(
                    refusal_message(found),
                    hint="Demo data is loaded only into the embedded development database (make run).",
                    id="accounts.E001",
                )
            )
    return errors
