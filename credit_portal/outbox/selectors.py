"""Reads of the outbox: what is still waiting for the broker (pages say so honestly)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Min

from credit_portal.outbox.models import OutboxTask


def is_waiting(task_name: str, *args: Any) -> bool:
    """Whether ``task_name(*args)`` is recorded and not yet handed to the broker."""
    return OutboxTask.objects.filter(name=task_name, args=list(args), dispatched_at__isnull=True).exists()


def waiting_among(task_name: str, first_args: Iterable[Any]) -> set[Any]:
    """Which of ``first_args`` (e.g. the report ids on a page) have ``task_name`` waiting. One query
    over the waiting rows of the task, which are few."""
    wanted = set(first_args)
    if not wanted:
        return set()
    rows = OutboxTask.objects.filter(name=task_name, dispatched_at__isnull=True).values_list(
        "args", flat=True
    )
    return {args[0] for args in rows if args and args[0] in wanted}


def enqueued_since(task_name: str, *args: Any, since: datetime) -> bool:
    """Whether ``task_name(*args)`` was recorded at or after ``since`` (handed over or not)."""
    return OutboxTask.objects.filter(name=task_name, args=list(args), created_at__gte=since).exists()


@dataclass(frozen=True)
class Backlog:
    waiting: int
    oldest: datetime | None


def backlog() -> Backlog:
    found = OutboxTask.objects.filter(dispatched_at__isnull=True).aggregate(
        n=Count("pk"), oldest=Min("created_at")
    )
    return Backlog(waiting=found["n"], oldest=found["oldest"])
