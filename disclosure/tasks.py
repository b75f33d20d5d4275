"""Celery tasks of the disclosure app. Beat runs ``sweep_disclosures`` every 5 minutes
(``CELERY_BEAT_SCHEDULE["disclosure-sweep"]``)."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task

from disclosure import sweeps

logger = logging.getLogger(__name__)


@shared_task
def sweep_disclosures(today: str | None = None) -> dict:
    """Publish what is due, end what has run its period, warn departments of deadlines at risk.
    Idempotent; safe to run concurrently. ``today`` (ISO date) is for an operator replaying a day:
    beat passes nothing and the sweep uses the local date. Returns the counts, also logged."""
    counts = sweeps.sweep(today=date.fromisoformat(today) if today else None)
    logger.info(
        "Disclosure sweep %s: %s",
        counts["today"],
        ", ".join(f"{k}={v}" for k, v in counts.items() if k != "today"),
    )
    return counts


@shared_task(acks_late=True, reject_on_worker_lost=True)
def render_credit_report(report_id: int) -> str | None:
    """Render one credit report (routed to the ``pdf`` queue, ``CELERY_TASK_ROUTES``). Safe to run
    twice: a ready report is not rendered again; a failure marks the report failed with its reason."""
    from disclosure.reports import services as reports

    report = reports.report_render(report_id=report_id)
    return report.status if report is not None else None


@shared_task
def requeue_stale_reports() -> int:
    """Beat, every 10 minutes: queue again the renders whose task was lost."""
    from disclosure.reports import services as reports

    return len(reports.reports_requeue_stale())
