"""The task outbox: a task is recorded with the write that needs it, handed to the broker once after
commit or by the sweep, never lost when the broker is down, never handed over twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from celery.signals import worker_ready
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from credit_portal import circuit
from credit_portal.celery import app, dispatch_outbox_at_start
from credit_portal.outbox import selectors, services
from credit_portal.outbox.models import OutboxTask
from credit_portal.outbox.tasks import dispatch_outbox
from disclosure.models import CreditReport
from records.models import ImportJob
from tests.test_imports import ITEM, csv_bytes, row

AUDIT = "credit_portal.audit.tasks.verify_audit_chain"
EMAIL = "credit_portal.notices.tasks.email_notices"


@pytest.fixture(autouse=True)
def _fresh_breakers():
    circuit.reset_all()
    yield
    circuit.reset_all()


def _refuse(connection, name, args):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def broker_down(monkeypatch):
    """A broker that refuses every connection."""
    monkeypatch.setattr(services, "_publish", _refuse)


def waiting():
    return list(
        OutboxTask.objects.filter(dispatched_at__isnull=True).order_by("pk").values_list("name", "args")
    )


@pytest.mark.django_db
def test_a_task_is_handed_over_after_commit_and_a_rolled_back_write_leaves_none(
    django_capture_on_commit_callbacks, published
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        task = services.enqueue(EMAIL, [1, 2])
        assert (task.name, task.args, task.attempts) == (EMAIL, [[1, 2]], 0)
        assert selectors.is_waiting(EMAIL, [1, 2]) and published == []
    assert len(callbacks) == 1 and published == [(EMAIL, [[1, 2]])]
    task.refresh_from_db()
    assert (task.attempts, task.last_error, task.dispatched_at is not None) == (1, "", True)
    assert not selectors.is_waiting(EMAIL, [1, 2])

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.enqueue(EMAIL, [3])
        raise RuntimeError
    assert callbacks == [] and published == [(EMAIL, [[1, 2]])]
    assert OutboxTask.objects.count() == 1


@pytest.mark.django_db
def test_an_unknown_task_is_refused_where_it_is_enqueued():
    with pytest.raises(ValueError, match=r"unknown Celery task 'records\.tasks\.no_such_task'"):
        services.enqueue("records.tasks.no_such_task", 1)
    with pytest.raises(ValueError, match="unknown Celery task 'nothing'"):
        services.enqueue("nothing")
    assert not OutboxTask.objects.exists()


@pytest.mark.django_db
def test_with_the_broker_down_the_task_waits_and_the_breaker_spares_the_next_requests_an_attempt(
    django_capture_on_commit_callbacks, broker_down
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.enqueue(EMAIL, [1])
    with django_capture_on_commit_callbacks(execute=True):
        second = services.enqueue(EMAIL, [2])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.dispatched_at, first.attempts) == (None, 1)
    assert first.last_error == "OperationalError: Error 111 connecting to 127.0.0.1:6379. Connection refused."
    assert (second.dispatched_at, second.attempts, second.last_error) == (None, 0, "")
    assert services.broker.down
    assert waiting() == [(EMAIL, [[1]]), (EMAIL, [[2]])]


@pytest.mark.django_db
def test_the_sweep_hands_over_each_waiting_task_once_oldest_first_and_stops_at_a_broker_failure(
    published, monkeypatch
):
    for n in range(3):
        services.enqueue(EMAIL, [n])  # not committed: the test's transaction holds them
    services.broker.failure(OSError("down a moment ago"))  # the sweep does not wait for the breaker

    real_publish = services._publish
    calls = []

    def fail_second(connection, name, args):
        calls.append(args)
        if len(calls) == 2:
            raise OperationalError("Connection reset by peer")
        real_publish(connection, name, args)

    monkeypatch.setattr(services, "_publish", fail_second)
    sweep = services.dispatch_pending()
    assert (sweep.dispatched, sweep.waiting, sweep.broker_down) == (1, 2, True)
    assert published == [(EMAIL, [[0]])]
    assert waiting() == [(EMAIL, [[1]]), (EMAIL, [[2]])]
    assert OutboxTask.objects.get(args=[[1]]).last_error == "OperationalError: Connection reset by peer"

    monkeypatch.setattr(services, "_publish", real_publish)
    sweep = services.dispatch_pending()
    assert (sweep.dispatched, sweep.waiting, sweep.broker_down) == (2, 0, False)
    assert services.dispatch_pending().dispatched == 0
    assert published == [(EMAIL, [[0]]), (EMAIL, [[1]]), (EMAIL, [[2]])]
    assert {t.args[0][0]: t.attempts for t in OutboxTask.objects.all()} == {0: 1, 1: 2, 2: 1}
    assert not services.broker.down


@pytest.mark.django_db
def test_a_task_that_cannot_be_published_does_not_hold_up_the_others(published, monkeypatch):
    services.enqueue(EMAIL, ["poison"])
    services.enqueue(EMAIL, [1])
    real_publish = services._publish

    def publish(connection, name, args):
        if args == [["poison"]]:
            raise TypeError("cannot serialise")
        real_publish(connection, name, args)

    monkeypatch.setattr(services, "_publish", publish)
    sweep = services.dispatch_pending()
    assert (sweep.dispatched, sweep.waiting, sweep.broker_down) == (1, 1, False)
    assert published == [(EMAIL, [[1]])]
    poison = OutboxTask.objects.get(args=[["poison"]])
    assert (poison.dispatched_at, poison.attempts, poison.last_error) == (
        None,
        1,
        "TypeError: cannot serialise",
    )


@pytest.mark.django_db
def test_unless_pending_records_a_task_once_while_it_waits(published):
    assert services.enqueue(AUDIT, unless_pending=True) is not None
    assert services.enqueue(AUDIT, unless_pending=True) is None
    assert services.enqueue(AUDIT) is not None  # without it: recorded again
    services.dispatch_pending()
    assert services.enqueue(AUDIT, unless_pending=True) is not None  # no longer waiting
    assert published == [(AUDIT, []), (AUDIT, [])]


@pytest.mark.django_db
def test_the_sweep_deletes_tasks_handed_over_more_than_a_week_ago_and_keeps_waiting_ones(published):
    old, recent, stuck = (services.enqueue(EMAIL, [n]) for n in range(3))
    now = timezone.now()
    OutboxTask.objects.filter(pk=old.pk).update(dispatched_at=now - timedelta(days=8))
    OutboxTask.objects.filter(pk=recent.pk).update(dispatched_at=now - timedelta(days=6))
    OutboxTask.objects.filter(pk=stuck.pk).update(created_at=now - timedelta(days=30))
    sweep = services.dispatch_pending()
    assert (sweep.dispatched, sweep.purged) == (1, 1)
    assert sorted(OutboxTask.objects.values_list("pk", flat=True)) == [recent.pk, stuck.pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_task_another_process_holds_is_skipped_not_handed_over_twice(published):
    # Committed and waiting (as when the broker was down at commit).
    held = OutboxTask.objects.create(name=EMAIL, args=[[1]])
    OutboxTask.objects.create(name=EMAIL, args=[[2]])
    locked, release = threading.Event(), threading.Event()

    def other_process():
        try:
            with transaction.atomic():
                OutboxTask.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_process)
    thread.start()
    try:
        assert locked.wait(10)
        assert services.dispatch_now(held.pk) is False
        assert services.dispatch_pending().dispatched == 1
        assert published == [(EMAIL, [[2]])]
    finally:
        release.set()
        thread.join(10)
    assert services.dispatch_pending().dispatched == 1
    assert published == [(EMAIL, [[2]]), (EMAIL, [[1]])]
    assert OutboxTask.objects.filter(dispatched_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_a_starting_worker_and_beat_and_the_command_run_the_sweep(published, settings, monkeypatch):
    assert dispatch_outbox_at_start in [ref() for _key, ref in worker_ready.receivers]
    entry = settings.CELERY_BEAT_SCHEDULE["dispatch-outbox"]
    assert entry["task"] == dispatch_outbox.name and entry["task"] in app.tasks
    assert (entry["schedule"].minute, entry["options"]) == ({*range(60)}, {"expires": 50})

    services.enqueue(EMAIL, [1])
    closed = []
    monkeypatch.setattr(connections, "close_all", lambda: closed.append(True))  # the test's own
    dispatch_outbox_at_start()
    assert published == [(EMAIL, [[1]])] and closed == [True]
    services.enqueue(EMAIL, [2])
    assert dispatch_outbox() == {"dispatched": 1, "waiting": 0, "purged": 0, "broker_down": False}
    services.enqueue(EMAIL, [3])
    assert _call("dispatch_outbox") == "1 task(s) handed to the broker, 0 waiting.\n"

    services.enqueue(EMAIL, [4])
    monkeypatch.setattr(services, "_publish", _refuse)
    with pytest.raises(CommandError, match="The broker is unreachable"):
        _call("dispatch_outbox")
    assert waiting() == [(EMAIL, [[4]])]


def _call(*args) -> str:
    import io

    buffer = io.StringIO()
    call_command(*args, stdout=buffer)
    return buffer.getvalue()


# --- what the pages say -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_requests_whose_task_was_handed_over_are_said_to_be_queued(
    published, entity, clerk, client_for, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    staff = client_for(clerk)
    response = staff.post(
        "/staff/reports/", {"code": entity.code, "sections": ["registration"], "language": "en"}, follow=True
    )
    report = CreditReport.objects.get()
    page = response.content.decode()
    assert f"Report {report.number} requested. It is being prepared" in page
    assert "Accepted, starts shortly" not in page
    assert staff.get(f"/staff/reports/{report.number}/status/").json()["status_label"] == "Queued"

    upload = SimpleUploadedFile("records.csv", csv_bytes([row(entity, "OB-1")]))
    response = staff.post(reverse("staff:import_new"), {"item": ITEM, "file": upload}, follow=True)
    job = ImportJob.objects.get()
    page = response.content.decode()
    assert "File uploaded: its import has been queued." in page
    assert "Waiting for a worker…" in page
    assert (
        staff.get(reverse("staff:import_status", args=[job.pk])).json()["summary"] == "Waiting for a worker…"
    )
    assert published == [
        ("disclosure.tasks.render_credit_report", [report.pk]),
        ("records.tasks.import_file", [job.pk]),
    ]


# --- /healthz --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_says_degraded_when_tasks_wait_long_with_the_broker_up(today):
    today(timezone.localdate())  # the clock stands still: the ages below are exact
    task = services.enqueue(EMAIL, [1])
    assert Client().get("/healthz").content == b"ok"  # waiting a moment is normal
    OutboxTask.objects.filter(pk=task.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content.decode().splitlines() == [
        "degraded",
        "database: ok",
        "redis: ok",
        "rate limits: shared",
        "broker: ok",
        "outbox: 1 task(s) waiting, the oldest for 360 s (is beat running?)",
    ]
    data = Client().get("/healthz", {"format": "json"}).json()
    assert data == {
        "status": "degraded",
        "database": "ok",
        "redis": "ok",
        "rate_limits": "shared",
        "broker": "ok",
        "outbox_waiting": 1,
        "outbox_oldest_seconds": 360,
    }


@pytest.mark.django_db
def test_healthz_is_ok_in_json_too():
    assert Client().get("/healthz", {"format": "json"}).json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "rate_limits": "shared",
        "broker": "ok",
        "outbox_waiting": 0,
        "outbox_oldest_seconds": 0,
    }
