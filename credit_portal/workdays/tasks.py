"""Celery tasks of the working-day calendar."""

from __future__ import annotations

from celery import shared_task

from credit_portal.workdays import services


@shared_task(bind=True, max_retries=None, default_retry_delay=60)
def renew_calendar_version(self) -> bool:
    """Renew the calendar's shared version after an edit that Redis missed (``services.invalidate``):
    every process then reloads the calendar. Idempotent (a fresh version only costs each process
    one reload). While Redis is still unavailable, tries again a minute later."""
    if not services.renew_shared_version():
        raise self.retry()
    return True
