"""The anchor store outside PostgreSQL, and reading anchors from wherever they were kept.

The portal appends every anchor as one JSON line to ``AUDIT_ANCHOR_DIR/audit-anchors.jsonl``. That
directory belongs on storage the database's owner cannot reach (another volume or host, synced to an
object store with retention); anyone may also keep the anchors published at ``/audit/anchors/`` and
``GET /api/v1/audit/anchors/``. ``verify_audit --anchors`` reads any of these back: a directory (its
``*.jsonl`` files), a file (JSON lines, a JSON list, or a saved page of the API), or an http(s) URL
of the API (every page, following ``next``).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

ANCHOR_FILE_NAME = "audit-anchors.jsonl"
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
# A source may not make the check page through an unbounded list.
_MAX_PAGES = 100_000


class AnchorSourceError(Exception):
    """An anchor source cannot be read or holds something that is not an anchor."""


@dataclass(frozen=True, order=True)
class Anchor:
    """A claim, kept outside the table: at ``anchored_at``, the newest event was ``sequence`` with
    this ``hash``."""

    sequence: int
    hash: str
    anchored_at: str
    source: str = ""

    def describe(self) -> str:
        where = f" ({self.source})" if self.source else ""
        return f"the anchor of {self.anchored_at}{where}"


def anchor_dir() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR)


def append(anchor: dict[str, Any]) -> Path:
    """Append one anchor to the anchor file and flush it to disk. One write of one line with
    O_APPEND: concurrent writers never interleave within a line."""
    directory = anchor_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ANCHOR_FILE_NAME
    line = (json.dumps(anchor, sort_keys=True, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def _anchor(value: Any, where: str) -> Anchor:
    if not isinstance(value, dict):
        raise AnchorSourceError(f"{where}: not an anchor (expected an object with sequence and hash)")
    sequence, head_hash, anchored_at = value.get("sequence"), value.get("hash"), value.get("anchored_at")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
        raise AnchorSourceError(f"{where}: 'sequence' must be a whole number of 0 or more")
    if not isinstance(head_hash, str) or not _HASH_RE.match(head_hash):
        raise AnchorSourceError(f"{where}: 'hash' must be 64 lower-case hexadecimal digits")
    try:
        moment = datetime.fromisoformat(anchored_at) if isinstance(anchored_at, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise AnchorSourceError(f"{where}: 'anchored_at' must be a date and time with its offset (ISO 8601)")
    return Anchor(sequence=sequence, hash=head_hash, anchored_at=utc_text(moment), source=where)


def utc_text(moment: datetime) -> str:
    """How an anchor's time is written everywhere: ISO 8601 in UTC."""
    return moment.astimezone(UTC).isoformat()


def _parse(text: str, name: str) -> tuple[list[Anchor], str | None]:
    """Anchors in ``text``, and the URL of the next page when it is a page of the API."""
    stripped = text.strip()
    if not stripped:
        return [], None
    try:
        value = json.loads(stripped)
    except ValueError:
        value = None  # not one JSON document: JSON lines
    if isinstance(value, dict) and "results" in value:
        results = value["results"]
        if not isinstance(results, list):
            raise AnchorSourceError(f"{name}: 'results' is not a list")
        next_url = value.get("next")
        if next_url is not None and not isinstance(next_url, str):
            raise AnchorSourceError(f"{name}: 'next' is not a URL")
        return [_anchor(v, f"{name}, item {i + 1}") for i, v in enumerate(results)], next_url
    if isinstance(value, list):
        return [_anchor(v, f"{name}, item {i + 1}") for i, v in enumerate(value)], None
    if value is not None:  # one anchor: a file of one JSON line, or one pretty-printed object
        return [_anchor(value, name if "\n" in stripped else f"{name}, line 1")], None
    anchors = []
    for number, line in enumerate(stripped.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            raise AnchorSourceError(f"{name}, line {number}: not JSON") from None
        anchors.append(_anchor(value, f"{name}, line {number}"))
    return anchors, None


def _fetch(url: str) -> str:
    if urlsplit(url).scheme not in ("http", "https"):
        raise AnchorSourceError(f"{url}: only http and https URLs are fetched")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - scheme checked above
            return response.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorSourceError(f"{url}: could not be fetched ({exc})") from None


def _from_url(url: str) -> Iterator[Anchor]:
    pages = 0
    next_url: str | None = url
    while next_url:
        pages += 1
        if pages > _MAX_PAGES:
            raise AnchorSourceError(f"{url}: more than {_MAX_PAGES} pages")
        anchors, following = _parse(_fetch(next_url), next_url)
        yield from anchors
        next_url = following


def _from_path(path: Path) -> Iterator[Anchor]:
    if path.is_dir():
        for file in sorted(path.glob("*.jsonl")):
            yield from _from_path(file)
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorSourceError(f"{path}: could not be read ({exc})") from None
    anchors, _next = _parse(text, str(path))
    yield from anchors


def read(sources: Iterable[str]) -> list[Anchor]:
    """Every anchor in ``sources`` (paths or URLs), in order of the event they name."""
    found: list[Anchor] = []
    for source in sources:
        if re.match(r"^[a-z][a-z0-9+.-]*://", source, re.IGNORECASE):
            found.extend(_from_url(source))
        else:
            path = Path(source)
            if not path.exists():
                raise AnchorSourceError(f"{source}: no such file or directory")
            found.extend(_from_path(path))
    return sorted(found, key=lambda a: (a.sequence, a.anchored_at))


def read_store() -> list[Anchor]:
    """The anchors of this portal's own anchor store (none when it does not exist yet)."""
    directory = anchor_dir()
    return read([str(directory)]) if directory.exists() else []
