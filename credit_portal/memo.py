"""A per-process memo with a time to live, per active language: for small tables that every request
of a busy page reads (filter choices, catalogue and department names) and that change a few times a
year. Each process keeps its own copy for ``seconds``; no round trip to the shared cache at all."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.utils.translation import get_language

T = TypeVar("T")
_ALL: list[dict] = []


def forget_all() -> None:
    """Drop every memo of this process (tests do, between tests)."""
    for kept in _ALL:
        kept.clear()


def per_process(seconds: float) -> Callable[[Callable[[], T]], Callable[[], T]]:
    def decorator(build: Callable[[], T]) -> Callable[[], T]:
        kept: dict[str, tuple[float, T]] = {}
        _ALL.append(kept)
        lock = threading.Lock()

        @wraps(build)
        def memoised() -> T:
            key = get_language() or ""
            now = time.monotonic()
            hit = kept.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
            value = build()
            with lock:
                kept[key] = (now + seconds, value)
            return value

        def forget(*, every_language: bool = False) -> None:
            """Drop the active language's copy (every language's, for a value that does not
            depend on it): the next call builds it again."""
            with lock:
                if every_language:
                    kept.clear()
                else:
                    kept.pop(get_language() or "", None)

        memoised.forget = forget  # type: ignore[attr-defined]
        return memoised

    return decorator
