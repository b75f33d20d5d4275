"""Celery tasks of the pledges app. Beat runs ``sweep_overdue_pledges`` daily
(``CELERY_BEAT_SCHEDULE["pledges-overdue-sweep"]``)."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task

from credit_portal.accounts.actors import system_actor
from pledges import services

logger = logging.getLogger(__name__)


@shared_task
def sweep_overdue_pledges(today: str | None = None) -> int:
    """Flag pledges whose materials are overdue and tell their departments; tell them of notices
    of intended breach findings whose defence window closed unanswered; lapse voluntary and
    association pledges past their ``valid_until``. Idempotent; safe to
    run concurrently (SKIP LOCKED). ``today`` (ISO date) is for an operator replaying a day."""
    actor = system_actor("pledges.sweep")
    day = date.fromisoformat(today) if today else None
    flagged = services.pledges_flag_overdue(actor=actor, today=day)
    closed = services.breach_windows_closed(actor=actor, today=day)
    lapsed = services.pledges_lapse_expired(actor=actor, today=day)
    logger.info(
        "Pledge sweep: %d flagged as overdue, %d defence windows closed, %d lapsed",
        len(flagged),
        len(closed),
        len(lapsed),
    )
    return len(flagged)
