"""Celery tasks of the records app: importing uploaded files of credit records."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from records.imports import runner


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_file(job_id: int) -> str | None:
    """Import one uploaded file (``ImportJob``). Safe to run twice, even at once: a second run
    finds the job locked or finished and returns; a run after a crash resumes the job."""
    job = runner.run_import(job_id)
    return job.status if job is not None else None


@shared_task
def purge_import_files() -> list[int]:
    """Daily: delete uploaded files some days after their import finished (they may hold identity
    numbers in clear). ``IMPORT_FILE_RETENTION_DAYS`` sets how many."""
    days = getattr(settings, "IMPORT_FILE_RETENTION_DAYS", 30)
    return runner.purge_old_files(older_than=timedelta(days=days))


@shared_task
def resume_stale_imports() -> list[int]:
    """Beat sweep: queue again the import jobs no worker is running (worker died, message lost)."""
    return runner.stale_jobs_resume()
