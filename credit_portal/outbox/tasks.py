"""The outbox sweep. Beat runs it every minute (``CELERY_BEAT_SCHEDULE["dispatch-outbox"]``) and
every worker once as it starts (``credit_portal.celery``)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from credit_portal.outbox import services


@shared_task
def dispatch_outbox() -> dict:
    """Hand the tasks still waiting in the outbox to the broker. Idempotent; safe to run
    concurrently (SKIP LOCKED)."""
    return asdict(services.dispatch_pending())
