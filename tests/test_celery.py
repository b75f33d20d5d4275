"""Celery against the real Redis broker: a worker picks up a task and runs it on the database."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from credit_portal.accounts.actors import system_actor
from credit_portal.audit import services as audit
from credit_portal.audit.tasks import verify_audit_chain
from credit_portal.celery import app


@pytest.fixture
def worker(transactional_db):
    # No ping check: results are ignored unless asked for, and the test below asks. The queue is
    # named: a worker's queue selection stays on the app, so one started earlier for the ``pdf``
    # queue (tests/browser) would otherwise leave this one deaf to ``default``.
    with start_worker(app, pool="solo", queues=["default"], perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_runs_the_nightly_audit_verification(worker):
    with transaction.atomic():
        for n in range(3):
            audit.log(actor=system_actor("tests"), action="tests.celery", data={"n": n})
    result = verify_audit_chain.apply_async(ignore_result=False)
    assert result.get(timeout=30) == {"checked": 3, "broken_at": None, "anchors": 0, "problems": []}


def test_beat_schedules_the_audit_verification():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["verify-audit-chain"]
    assert entry["task"] == verify_audit_chain.name
    assert entry["task"] in app.tasks
