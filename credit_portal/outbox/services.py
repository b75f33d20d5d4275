"""The transactional outbox.

A write that needs a Celery task calls ``enqueue(task_name, *args)`` inside its own transaction,
instead of ``transaction.on_commit(lambda: task.delay(...))``: the task is a row committed with
the write, or rolled back with it. Right after the commit the row is handed to the broker
(``dispatch_now``); when the broker is down then, the row waits and the request still succeeds,
and the sweep (``dispatch_pending``) hands it over later: Celery beat runs it every minute, every
worker runs it as it starts, and ``manage.py dispatch_outbox`` runs it by hand (beat and the worker
need the broker too, so nothing waiting is dispatched before it is back anyway).

A row is handed over once: whoever dispatches it holds it ``FOR UPDATE SKIP LOCKED`` and marks it
in the same transaction. Only a crash after the broker took the message and before that mark
commits hands it over again, which is why every task sent through here is idempotent.

Side effects are on the broker only; the rows themselves are bookkeeping (not audited: the write
that enqueued them is)."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from credit_portal.celery import app
from credit_portal.circuit import breaker
from credit_portal.outbox.models import OutboxTask

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
# Dispatched rows are kept this long (to answer "was it handed over, when?"), then deleted.
RETENTION = timedelta(days=7)
# What a down or unreachable broker raises while connecting or publishing.
BROKER_ERRORS = (KombuError, RedisError, OSError)
# A broker that does not answer fails fast: one connection attempt, short socket timeouts.
_CONNECTION_OPTIONS = {
    "connect_timeout": 2,
    "transport_options": {"max_retries": 0, "socket_connect_timeout": 1, "socket_timeout": 2},
}

broker = breaker(
    "broker",
    name="Celery broker",
    consequence="accepted tasks wait in the outbox until the sweep hands them over",
    retry_after=5.0,
)


def enqueue(task_name: str, *args: Any, unless_pending: bool = False) -> OutboxTask | None:
    """Record the task ``task_name(*args)`` in the current transaction; once it commits, hand it
    to the broker. ``args`` are JSON values (primary keys, lists of them). With ``unless_pending``
    nothing is recorded when the same task with the same arguments is already waiting (sweeps that
    queue work again). Returns the row, or None. Raises ``ValueError`` for a task Celery does not
    know, so a misspelt name fails where it is written, not in a worker."""
    _require_task(task_name)
    arguments = list(args)
    if (
        unless_pending
        and OutboxTask.objects.filter(name=task_name, args=arguments, dispatched_at__isnull=True).exists()
    ):
        return None
    task = OutboxTask.objects.create(name=task_name, args=arguments)
    # robust: the write is committed by then; whatever happens here must not reach its caller.
    transaction.on_commit(partial(dispatch_now, task.pk), robust=True)
    return task


def _require_task(task_name: str) -> None:
    if task_name in app.tasks:
        return
    # A web process imports a tasks module only when something needs it: import the task's own.
    module = task_name.rpartition(".")[0]
    with contextlib.suppress(ImportError, ValueError):  # no such module: refused just below
        importlib.import_module(module)
    if task_name not in app.tasks:
        raise ValueError(f"unknown Celery task {task_name!r}")


def dispatch_now(task_id: int) -> bool:
    """Hand one waiting row to the broker (after its commit). False when the broker is down (the
    sweep will), known to be down a moment ago (no new attempt), or another process has the row."""
    if not broker.allows():
        return False
    with transaction.atomic():
        task = (
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(pk=task_id, dispatched_at__isnull=True)
            .first()
        )
        if task is None:
            return False
        sent, _ = _dispatch([task])
    return sent == 1


@dataclass(frozen=True)
class Sweep:
    dispatched: int
    waiting: int
    purged: int
    broker_down: bool


def dispatch_pending(*, limit: int = 1000) -> Sweep:
    """Hand every waiting row to the broker, oldest first, up to ``limit``; stop at the first
    broker failure (the rest wait for the next sweep). Rows another sweep or request holds are
    skipped, so concurrent sweeps never hand a row over twice. Then delete the rows dispatched more
    than ``RETENTION`` ago. Ignores the breaker: an operator or a starting worker asks on purpose."""
    dispatched, broker_ok, tried = 0, True, set()
    while broker_ok and dispatched < limit:
        with transaction.atomic():
            rows = list(
                OutboxTask.objects.select_for_update(skip_locked=True)
                .filter(dispatched_at__isnull=True)
                .exclude(pk__in=tried)  # a row that failed on its own waits for the next sweep
                .order_by("pk")[: min(BATCH_SIZE, limit - dispatched)]
            )
            if not rows:
                break
            sent, broker_ok = _dispatch(rows)
        dispatched += sent
        tried.update(row.pk for row in rows)
    purged, _ = OutboxTask.objects.filter(dispatched_at__lt=timezone.now() - RETENTION).delete()
    waiting = OutboxTask.objects.filter(dispatched_at__isnull=True).count()
    if dispatched or not broker_ok:
        log = logger.info if broker_ok else logger.warning
        log("Outbox sweep: %d task(s) handed to the broker, %d waiting", dispatched, waiting)
    return Sweep(dispatched=dispatched, waiting=waiting, purged=purged, broker_down=not broker_ok)


# One broker connection per thread, kept between hand-overs (opening one costs more than a publish);
# dropped after a broker error, and not inherited across a fork.
_local = threading.local()


@contextmanager
def _broker_connection() -> Iterator[Any]:
    key = (os.getpid(), app.conf.broker_write_url)
    kept = getattr(_local, "connection", None)
    if kept is None or kept[0] != key:
        kept = _local.connection = (key, app.connection_for_write(**_CONNECTION_OPTIONS))
    try:
        yield kept[1]
    except BROKER_ERRORS:
        _local.connection = None
        with contextlib.suppress(Exception):
            kept[1].release()
        raise


def broker_answers() -> bool:
    """Whether the broker is up, for ``/healthz``: known up (the last hand-over worked), or, once
    the breaker allows another attempt after a failure, a connection made now."""
    if not broker.down:
        return True
    if not broker.allows():
        return False
    try:
        with _broker_connection() as connection:
            connection.default_channel  # noqa: B018 (connects)
    except BROKER_ERRORS as exc:
        broker.failure(exc)
        return False
    broker.success()
    return True


def _dispatch(rows: list[OutboxTask]) -> tuple[int, bool]:
    """Publish ``rows`` (locked by the caller) on one connection and mark those the broker took.
    Returns how many it took and whether the broker answered."""
    sent: list[int] = []
    broker_error: BaseException | None = None
    try:
        with _broker_connection() as connection:
            for row in rows:
                try:
                    _publish(connection, row.name, row.args)
                except BROKER_ERRORS:
                    raise
                except Exception as exc:  # this row's own problem: record it, go on with the others
                    logger.exception("Outbox task %s could not be published", row.pk)
                    _failed(row, exc)
                else:
                    sent.append(row.pk)
    except BROKER_ERRORS as exc:
        broker_error = exc
    if sent:
        OutboxTask.objects.filter(pk__in=sent).update(
            dispatched_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
    if broker_error is not None:
        broker.failure(broker_error)
        unsent = [row for row in rows if row.pk not in sent]
        if unsent:
            _failed(unsent[0], broker_error)
        return len(sent), False
    broker.success()
    return len(sent), True


def _failed(row: OutboxTask, exc: BaseException) -> None:
    OutboxTask.objects.filter(pk=row.pk).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:1000]
    )


def _publish(connection, name: str, args: list) -> None:
    """The one place that talks to the broker. Routes (``CELERY_TASK_ROUTES``) apply by name."""
    app.send_task(
        name, args=args, connection=connection, retry=False, ignore_result=True, add_to_parent=False
    )
