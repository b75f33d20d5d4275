"""Credit Portal: the project package and its cross-cutting core (departments, accounts and roles,
the audit trail, the working-day calendar). Nothing here imports the stage apps."""

from credit_portal.celery import app as celery_app

__all__ = ["celery_app"]
