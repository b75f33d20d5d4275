"""The English wording of record content that the portal itself writes.

Most of what a record says is recorded data, shown as recorded. A few items are written by a
procedure of a stage app in its own Chinese words (a pledge and how it was kept or broken): the app
that writes them registers, for those items, a function giving each record's content in English
(``register``), so that a reader of English — the credit report — reads the portal's words in
English. The hub never imports the apps built on it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from records.models import CreditRecord

# item code -> function(records of that item) -> {record id: English content}
_writers: dict[str, Callable[[list[CreditRecord]], dict[int, str]]] = {}


def register(item_code: str, writer: Callable[[list[CreditRecord]], dict[int, str]]) -> None:
    _writers[item_code] = writer


def english_contents(records: Iterable[CreditRecord]) -> dict[int, str]:
    """``{record id: content in English}`` for the records of items whose content the portal
    writes (one call per item, whatever the number of records)."""
    by_item: dict[str, list[CreditRecord]] = {}
    for record in records:
        if record.item.code in _writers:
            by_item.setdefault(record.item.code, []).append(record)
    out: dict[int, str] = {}
    for code, group in by_item.items():
        out.update(_writers[code](group))
    return out
