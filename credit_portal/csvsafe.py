"""CSV cells that spreadsheet programs will not execute (CSV / formula injection)."""

from __future__ import annotations

from collections.abc import Iterable

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_TRIGGERS) else text


def safe_row(values: Iterable) -> list[str]:
    return [safe_cell(v) for v in values]
