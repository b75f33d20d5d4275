"""The lock that keeps two workers off one import job works through PgBouncer in transaction
pooling: it is a transaction-level advisory lock, held by an open transaction on a connection of
its own, never a session-level lock left on whichever server connection ran the statement."""

from __future__ import annotations

from datetime import timedelta

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user
from credit_portal.outbox.models import OutboxTask
from records.imports import runner
from records.models import ImportJob
from tests.test_imports import csv_bytes, row

pytestmark = pytest.mark.django_db

HOLDERS = """
    SELECT l.pid, a.state
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 2
"""


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def outside():
    """Another client of the server, as another worker (or the operator) would be."""
    conn = psycopg2.connect(**connection.get_connection_params())
    conn.autocommit = True
    yield conn.cursor()
    conn.close()


def test_a_running_import_holds_its_lock_in_a_transaction_of_its_own(clerk, entity, outside, monkeypatch):
    job = runner.import_job_create(
        actor=actor_for_user(clerk),
        item_code="admin_punishment",
        uploaded_file=SimpleUploadedFile("records.csv", csv_bytes([row(entity, "LOCK-1")])),
    )
    seen = {}
    real_run = runner._Run.run

    def observed(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            main = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND classid = %s AND objid = %s AND objsubid = 2",
                [runner._LOCK_CLASS, job.pk],
            )
            seen["on the connection writing the batches"] = cursor.fetchone()[0]
        outside.execute(HOLDERS, [runner._LOCK_CLASS, job.pk])
        seen["holders"] = [(pid != main, state) for pid, state in outside.fetchall()]
        outside.execute("SELECT pg_try_advisory_lock(%s, %s)", [runner._LOCK_CLASS, job.pk])
        seen["another worker gets it"] = outside.fetchone()[0]
        return real_run(self)

    monkeypatch.setattr(runner._Run, "run", observed)
    assert runner.run_import(job.pk).status == ImportJob.Status.DONE
    assert seen == {
        "on the connection writing the batches": 0,
        "holders": [(True, "idle in transaction")],
        "another worker gets it": False,
    }
    # Released with its transaction: nobody holds it, and the next worker takes it at once.
    outside.execute(HOLDERS, [runner._LOCK_CLASS, job.pk])
    assert outside.fetchall() == []
    outside.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [runner._LOCK_CLASS, job.pk])
    assert outside.fetchone()[0] is True


def test_the_stale_job_sweep_leaves_no_lock_behind(
    clerk, entity, outside, published, django_capture_on_commit_callbacks
):
    job = runner.import_job_create(
        actor=actor_for_user(clerk),
        item_code="admin_punishment",
        uploaded_file=SimpleUploadedFile("records.csv", csv_bytes([row(entity, "LOCK-2")])),
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    # Its worker died long ago: the task recorded at upload is older than the sweep's interval.
    OutboxTask.objects.update(created_at=timezone.now() - timedelta(minutes=11), dispatched_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert runner.stale_jobs_resume() == [job.pk]
    assert published[-1] == ("records.tasks.import_file", [job.pk])
    outside.execute(HOLDERS, [runner._LOCK_CLASS, job.pk])
    assert outside.fetchall() == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        main = cursor.fetchone()[0]
    outside.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s AND pid <> pg_backend_pid()",
        [main],
    )
    assert outside.fetchone()[0] == 0  # the sweep's lock connection is closed
