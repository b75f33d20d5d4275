"""Reversing one URL pattern for every line of a list at the cost of one ``reverse``."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

_SENTINEL = "987654321"


def url_maker(viewname: str) -> Callable[[object], str]:
    """``lambda value: reverse(viewname, args=[value])`` for a pattern of one argument, without
    resolving the pattern again for each value. The values must need no quoting in a path (ids,
    credit codes)."""
    template = reverse(viewname, args=[_SENTINEL])
    head, tail = template.rsplit(_SENTINEL, 1)
    return lambda value: f"{head}{value}{tail}"
