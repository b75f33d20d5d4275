"""The one row an actor asked for, or ``NotFound``: missing and not-theirs look the same, so a
refusal never reveals whether something exists.

A department's staff act on their own department's rows (records, objections to its records,
complaints it handles, its matters and pledges...); the credit office (``Cap.ALL_DEPARTMENTS``)
acts on every department's where the procedure lets it. Services lock the row they change
(``SELECT ... FOR UPDATE`` of the row's own table, not of the tables it is filtered or joined
through) so that two requests never both act on what they read. The capability is the caller's
to check first (``actor.require``), before any look-up."""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.db.models import QuerySet

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.errors import NotFound

M = TypeVar("M", bound=models.Model)


def one_or_not_found(queryset: QuerySet[M], /, **lookup) -> M:
    """The first row of ``queryset`` matching ``lookup``; ``NotFound`` when there is none."""
    row = queryset.filter(**lookup).first()
    if row is None:
        raise NotFound
    return row


def locked_or_not_found(queryset: QuerySet[M], /, **lookup) -> M:
    """``one_or_not_found``, the row locked until the transaction ends."""
    return one_or_not_found(queryset.select_for_update(of=("self",)), **lookup)


def of_department(
    queryset: QuerySet[M], actor: Actor, *, field: str = "department_id", credit_office: bool = True
) -> QuerySet[M]:
    """The rows of ``queryset`` whose ``field`` is the actor's department; every department's for
    the credit office unless ``credit_office`` is False (an act that only the overseeing
    department takes). An actor without a department gets none."""
    if credit_office and actor.can(Cap.ALL_DEPARTMENTS):
        return queryset
    if actor.department_id is None:
        return queryset.none()
    return queryset.filter(**{field: actor.department_id})


def locked_department_row(
    queryset: QuerySet[M],
    /,
    *,
    actor: Actor,
    field: str = "department_id",
    credit_office: bool = True,
    **lookup,
) -> M:
    """The row matching ``lookup`` if it is the actor's department's (see ``of_department``),
    locked until the transaction ends; else ``NotFound``."""
    return locked_or_not_found(
        of_department(queryset, actor, field=field, credit_office=credit_office), **lookup
    )
