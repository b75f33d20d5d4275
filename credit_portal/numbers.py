"""Reference numbers that people read, copy by hand and type back: random, so that a number reveals
nothing (not how many came before, not another one), and drawn again on the rare collision.

Each kind of number keeps its own format where it is made (``CN-2026-7K3QZP9A`` for a pledge,
``YY-…`` for an objection, ``TS…`` for a complaint, ``CR20261127…`` for a credit report); what they
share is here: the random characters, reading a number back as a person types it, and inserting a
row under a fresh number."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

# Unambiguous when read aloud or copied by hand: no 0/O, no 1/I.
READABLE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
ATTEMPTS = 5

M = TypeVar("M", bound=models.Model)


def random_characters(length: int, alphabet: str = READABLE_ALPHABET) -> str:
    """``length`` characters of ``alphabet``, from the operating system's secure random source."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def normalise_reference(value: Any, prefix: str) -> str:
    """A reference as typed by a person: any case, spaces, with or without the prefix's hyphen."""
    text = re.sub(r"[\s\-_]", "", str(value or "")).upper()
    bare = prefix.replace("-", "")
    if text.startswith(bare):
        text = text[len(bare) :]
    return prefix + text


def insert_numbered(
    obj: M,
    *,
    field: str,
    new_number: Callable[[], str],
    on_conflict: Callable[[], M | None] | None = None,
    attempts: int = ATTEMPTS,
) -> M:
    """Insert ``obj`` under a fresh number in ``field`` (unique), drawing again with ``new_number``
    when the number is already taken, at most ``attempts`` times.

    ``on_conflict`` is called first on every integrity error, before the number is looked at: it
    may raise a clearer error (a ``Conflict`` saying what already exists), or return the row that
    makes this insert unnecessary (the same request arriving twice at once), which is then
    returned instead of ``obj``. Any other integrity error is raised as it is."""
    model = type(obj)
    for attempt in range(attempts):
        setattr(obj, field, new_number())
        try:
            with transaction.atomic():
                obj.save(force_insert=True)
        except IntegrityError:
            if on_conflict is not None:
                existing = on_conflict()
                if existing is not None:
                    return existing
            taken = model._default_manager.filter(**{field: getattr(obj, field)}).exists()
            if attempt + 1 < attempts and taken:
                continue
            raise
        return obj
    raise AssertionError("unreachable")  # pragma: no cover
